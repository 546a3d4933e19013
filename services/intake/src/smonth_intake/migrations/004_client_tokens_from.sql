-- A revocation refuses the tokens issued up to the end of its second (a token's iat is in whole
-- seconds); a system's next token, asked for in that same second, is issued as of the next one,
-- or it would be refused too.
ALTER TABLE clients ADD COLUMN tokens_from timestamptz;
