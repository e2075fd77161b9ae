-- 0002_start_step: a message made by a fan-out step (split) resumes its flow at
-- the step after the one that made it, instead of starting over.
ALTER TABLE messages ADD COLUMN start_step INTEGER NOT NULL DEFAULT 0;
