UPDATE files SET layer = 'top';
