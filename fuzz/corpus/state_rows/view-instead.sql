DROP TABLE dirs; CREATE VIEW dirs AS SELECT hotfix_id, path FROM files;
