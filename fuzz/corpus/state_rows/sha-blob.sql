PRAGMA ignore_check_constraints = 1; UPDATE files SET sha256 = x'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
