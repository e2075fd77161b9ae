-- 0008_dead_letter_filters: dead-letter pages filtered by flow or by error code (the
-- admin API and the dashboard), newest first, read as many index entries as the page
-- holds, whatever the number of dead letters. A filter by time alone walks
-- messages_dead (0001) from its bound. Partial: only dead rows are in them, so the
-- queue's statements pay nothing for them.
CREATE INDEX messages_dead_flow ON messages (flow, dead_at DESC, id DESC) WHERE state = 'dead';
CREATE INDEX messages_dead_code ON messages (error_code, dead_at DESC, id DESC) WHERE state = 'dead';
-- Both at once: a rare pair (a flow's timeouts) would otherwise walk all of one flow's, or one code's, dead letters.
CREATE INDEX messages_dead_flow_code ON messages (flow, error_code, dead_at DESC, id DESC) WHERE state = 'dead';
