UPDATE exchanges SET answer = LEFT(answer, 32);
ALTER TABLE exchanges MODIFY answer VARCHAR(32) NOT NULL;
