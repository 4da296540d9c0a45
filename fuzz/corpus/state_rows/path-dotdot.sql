UPDATE files SET path = '../../etc/shadow' WHERE hotfix_id = 'KB967131' AND path LIKE '%Admwprox.dll';
