-- Bodies reclaimed: forgets their expiry entries and broadcast records.
--
-- KEYS[1]  bodies-due
-- KEYS[2]  broadcasts
-- KEYS[3]  broadcast-meta
-- KEYS[4]  broadcast-recipients
-- ARGV     message ids
-- Returns 'ok'
local bodies_due, broadcasts, broadcast_meta, recipients = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
chunked('ZREM', bodies_due, ARGV)
chunked('ZREM', broadcasts, ARGV)
chunked('HDEL', broadcast_meta, ARGV)
chunked('HDEL', recipients, ARGV)
return 'ok'
