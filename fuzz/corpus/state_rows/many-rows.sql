WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 300) INSERT INTO files SELECT 'KB967131', 'a/' || i, 'a/' || i, 'installed', NULL, 1, printf('%064d', i), 0, 420, NULL, i FROM n;
