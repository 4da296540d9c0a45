UPDATE files SET size = 1.5;
