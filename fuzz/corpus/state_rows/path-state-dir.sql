UPDATE files SET path = 'var/lib/hotfix/state.db' WHERE hotfix_id = 'KB967131' AND path LIKE '%Admwprox.dll';
