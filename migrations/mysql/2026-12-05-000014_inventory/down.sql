DROP TABLE drifts;
DROP TABLE inventories;
