PRAGMA ignore_check_constraints = 1; UPDATE files SET action = 'executed';
