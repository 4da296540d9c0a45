UPDATE files SET path = 'a' || char(0) || 'b' WHERE hotfix_id = 'KB967131' AND path LIKE '%Admwprox.dll';
