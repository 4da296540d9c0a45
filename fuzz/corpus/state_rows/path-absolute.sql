UPDATE files SET path = '/etc/passwd' WHERE hotfix_id = 'KB967131' AND path LIKE '%Admwprox.dll';
