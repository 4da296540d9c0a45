UPDATE files SET version = '7.0.6001.99999';
