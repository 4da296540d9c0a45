UPDATE dirs SET path = '..';
