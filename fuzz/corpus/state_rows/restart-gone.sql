DELETE FROM restart;
