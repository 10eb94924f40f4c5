-- A log row's answer may name a package by its 64-digit key ("Forbidden:<key>"
-- for a refused download, "package:/repository/<key>" for LocatePackage):
-- 32 characters were too few, and MariaDB refused the whole exchange.
ALTER TABLE exchanges MODIFY answer VARCHAR(100) NOT NULL;
