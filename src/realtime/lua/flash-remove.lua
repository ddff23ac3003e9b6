-- Removes exactly the given flash messages.
--
-- KEYS[1]   list  the user's flash list (flash-lib.lua)
-- ARGV      ids   message ids
-- Returns   the ids that were there
local list = KEYS[1]
drop_expired(list, now_ms())
local wanted = {}
for i = 1, #ARGV do wanted[ARGV[i]] = true end
local removed = {}
for _, entry in ipairs(redis.call('LRANGE', list, 0, -1)) do
  local id = string.match(entry, '^%d+|([^|]*)|')
  if id and wanted[id] then
    redis.call('LREM', list, 1, entry)
    table.insert(removed, id)
  end
end
return removed
