-- PUBLISH from the node that holds the user's log: in a Redis Cluster a bare PUBLISH goes to any
-- node, and two of them can then arrive out of order; from the user's slot node, a user's flash
-- messages and log entries reach subscribers in the order they were sent.
--
-- KEYS[1]  log      the user's event log (only picks the node; not touched)
-- ARGV[1]  channel
-- ARGV[2]  message
-- Returns  the number of subscribers that received it
return redis.call('PUBLISH', ARGV[1], ARGV[2])
