PRAGMA foreign_keys = OFF; DELETE FROM hotfixes WHERE id = 'KB967131';
