UPDATE meta SET value = '99';
