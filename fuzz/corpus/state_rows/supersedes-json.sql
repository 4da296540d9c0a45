UPDATE hotfixes SET supersedes_json = '["KB1", 1, {}]', requires_json = '{';
