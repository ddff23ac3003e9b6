-- Shared by the flash-*.lua scripts. A user's flash list holds, oldest first, entries
-- "<expires at, ms>|<message id>|<message JSON>". Times are Redis's clock (TIME), so every process
-- agrees on what has expired.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Pops the expired entries at the head of the list.
local function drop_expired(list, now)
  while true do
    local head = redis.call('LINDEX', list, 0)
    if not head then return end
    local expires = tonumber(string.match(head, '^(%d+)|'))
    if expires and expires > now then return end
    redis.call('LPOP', list)
  end
end
