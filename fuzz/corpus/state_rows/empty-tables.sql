DELETE FROM files; DELETE FROM hotfixes; DELETE FROM history;
