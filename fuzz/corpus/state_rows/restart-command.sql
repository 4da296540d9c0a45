PRAGMA ignore_check_constraints = 1; UPDATE restart SET required = 2, kind = 'now', hotfixes_json = '[[]]', policy = 'at=25:99', scheduled_at = 'soon', mechanism = 'sh -c reboot';
