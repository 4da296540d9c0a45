UPDATE hotfixes SET architecture = 'sparc', restart = 'later', language = '';
