INSERT INTO files SELECT hotfix_id, upper(path), manifest_path, action, version, size, sha256, mtime, mode, backup, layer + 10 FROM files;
