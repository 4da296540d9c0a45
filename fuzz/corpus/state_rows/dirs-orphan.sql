PRAGMA foreign_keys = OFF; INSERT INTO dirs VALUES ('KB404', 'opt/x');
