-- The webhook outbox's writes (docs/redis.md "Webhooks"; outbox.ts claims and acknowledges). With
-- webhooks on, a change appends ONE record to its stream in the script that makes it: the user's list
-- `webhooks` (their slot), or the broadcasts' `{global}:webhooks`. A record is
--   "<seq>|<occurredAt ms>|<op>|<fields>"
-- with what the change's reply carries (webhook-records.ts reads them back into the change and takes
-- its bodies from domain/webhooks.ts, so which signals a change fires is decided there alone):
--   send|<id>|<user_reply()>              a delivery (delivery.lua)
--   <op>|<unread>:<unseen>|<ids, by ','>  op: read unread seen archive unarchive delete wake unsnooze,
--                                         or snooze, then |<until ms>
--   all-<kind>|<unread>:<unseen>|<until ms>|<category>   mark-all.lua's kind
--   retract|<unread>:<unseen>|<id>|<1 if it was unread, else 0>
--   broadcast|<id>, unbroadcast|<id>       the broadcasts' stream
-- seq numbers the stream's records (hash field webhook-seq, never reset): event ids stay unique.
-- WH.on: set by the script from its arguments (off: nothing written). WH.index: the {global} zset
-- webhooks-due when the script may write it (single server): an append to an empty stream indexes
-- it, due now, unless it is indexed (NX: a claim's lease and a retry's time stay); on a cluster the
-- caller indexes around the step and WH.fresh (the stream was empty) tells it to index again after
-- (context.ts).
local WH = { on = false, index = nil, fresh = false }

-- seq: the record's number when the caller counted it already (its field written with others), else nil.
local function wh_append(list, seqs, stream, now, record, seq)
  seq = seq or str(redis.call('HINCRBY', seqs, 'webhook-seq', 1))
  if redis.call('RPUSH', list, seq .. '|' .. str(now) .. '|' .. record) == 1 then
    if WH.index then redis.call('ZADD', WH.index, 'NX', now, stream) else WH.fresh = true end
  end
end

-- A user's change; C: their counts after it (delivery.lua counts()).
local function wh_user(U, user, now, op, C, rest)
  if not WH.on then return end
  wh_append(U.webhooks, U.state, user, now, op .. '|' .. str(C.unread) .. ':' .. str(C.unseen) .. '|' .. rest)
end

-- A delivery of a send (reply: its user_reply(); seq as wh_append's).
local function wh_sent(U, user, now, id, reply, seq)
  if WH.on then wh_append(U.webhooks, U.state, user, now, 'send|' .. id .. '|' .. reply, seq) end
end

-- The per-user scripts' first reply field: 'ok', or 'ok+' when the caller should index the stream.
local function wh_ok()
  if WH.fresh then return 'ok+' end
  return 'ok'
end
