DROP TABLE restart; CREATE TABLE restart(id, required, kind, hotfixes_json, policy, scheduled_at, mechanism); INSERT INTO restart VALUES ('one', 'yes', 1, 2, 3, 4, 5);
