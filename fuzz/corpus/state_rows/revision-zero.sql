UPDATE hotfixes SET revision = 0, installed_at = -5;
