INSERT INTO history(at, action, hotfix_id, revision, outcome, detail, txid) VALUES (0, 'exec', '', -1, 'maybe', char(10, 27, 91, 50, 74), '../x');
