#!lua name=chaosbus_v1
--[[
The control plane's writes, run on the Redis server (docs/decisions/0300).

Every function is called as `FCALL <name> 0 <namespace> <user> ...`: no key is declared,
the namespace is an argument, so the caller needs no key permission for FCALL itself.
Redis checks every command below against the *caller's* ACL (a function cannot raise its
privileges), so the roles keep a few narrow write commands on their own keys, granted by
ACL selectors (`chaosbus.control.acl`) - none of which can remove, reorder or jam anything.

  <ns>:kills            engagements counter (INCR only): the switch is released only while
                        the release marker covers exactly this count
  <ns>:kill             the release marker, JSON (admins only)
  <ns>:kill:last        who engaged last and why, JSON (for people; never judged)
  <ns>:paused           paused scopes (HSET/HDEL)
  <ns>:audit:seq        the audit log's sequence (INCR only)
  <ns>:audit:by:<user>  that user's entries, oldest first (RPUSH only), each the sha1 of the
                        entry before it in the same list: an entry sits in the list of the
                        credential that wrote it, so nobody can write under another's name
  <ns>:approval:<area>:<sha256>:<user>   one sign-off, expiring (SET ... PX)

Identity: ACL WHOAMI cannot be called from a function, so the caller names itself and the
function checks that the caller may append to that user's list (`redis.acl_check_cmd`):
only that user (and an admin) may.

All-or-nothing: a script's writes are not rolled back when a later command fails, so each
function checks everything first (types, permissions, arguments) and writes only after;
the writes left cannot fail. The one exception is deliberate: a kill engages first and
reports an audit failure after, so a kill that cannot be recorded still engages.
]]

local GENESIS = '0000000000000000000000000000000000000000'
local MAX_SEQ = 9007199254740991 -- 2^53 - 1: exact in Lua numbers and in JSON readers

local function fail(code, text)
  return redis.error_reply(code .. ' chaosbus: ' .. text)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function bad_name(text)
  return text == nil or text == '' or string.find(text, '[%*%?%[%]:%s]') ~= nil
end

-- The caller is `user` when it may append to `user`'s audit list (only that user may).
local function caller(ns, user)
  if ns == nil or ns == '' or string.find(ns, '[%*%?%[%]%s]') then
    return nil, fail('ERR', 'bad namespace')
  end
  if bad_name(user) then
    return nil, fail('ERR', 'bad user name')
  end
  if not redis.acl_check_cmd('RPUSH', ns .. ':audit:by:' .. user, 'x') then
    return nil, fail('NOPERM', 'the caller is not ' .. user .. ' (or may not write the audit log)')
  end
  return user
end

local function may(command, key, ...)
  if not redis.acl_check_cmd(command, key, ...) then
    return fail('NOPERM', 'may not ' .. string.lower(command) .. ' ' .. key)
  end
  return nil
end

-- A counter key that INCR can still raise: absent or a small non-negative integer.
local function counter(key)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'none' then
    return 0
  end
  if kind ~= 'string' then
    return nil, fail('ERR', key .. ' holds a ' .. kind .. ', not a counter')
  end
  local n = tonumber(redis.call('GET', key))
  if n == nil or n < 0 or n >= MAX_SEQ or n ~= math.floor(n) then
    return nil, fail('ERR', key .. ' does not hold a counter')
  end
  return n
end

-- Everything an audit append needs, checked before any write.
local function audit_ready(ns, user)
  local list = ns .. ':audit:by:' .. user
  local err = may('INCR', ns .. ':audit:seq') or may('RPUSH', list, 'x')
  if err then
    return nil, err
  end
  local _, bad = counter(ns .. ':audit:seq')
  if bad then
    return nil, bad
  end
  local kind = redis.call('TYPE', list)['ok']
  if kind ~= 'none' and kind ~= 'list' then
    return nil, fail('ERR', list .. ' holds a ' .. kind .. ', not a list')
  end
  return list
end

-- Append one entry (after audit_ready): sequence, link and time all from the server.
local function append(ns, list, user, at, fields)
  local seq = redis.call('INCR', ns .. ':audit:seq')
  local last = redis.call('LINDEX', list, -1)
  local entry = {
    seq = tostring(seq),
    prev = last and redis.sha1hex(last) or GENESIS,
    actor = user,
    at_ms = tostring(at),
  }
  for k, v in pairs(fields) do
    if v ~= nil and v ~= '' then
      entry[k] = v
    end
  end
  redis.call('RPUSH', list, cjson.encode(entry))
  return seq
end

local GENERIC = { start = true, stop = true, abort = true, verdict = true, refused = true }

-- FCALL chaosbus_audit 0 ns user claimed action run_id experiment detail
local function audit(_, args)
  local ns, user = args[1], args[2]
  local _, bad = caller(ns, user)
  if bad then return bad end
  if not GENERIC[args[4]] then
    return fail('ERR', 'action ' .. tostring(args[4]) .. ' is written by its own function')
  end
  local list, err = audit_ready(ns, user)
  if err then return err end
  return append(ns, list, user, now_ms(), {
    action = args[4], claimed = args[3], run_id = args[5], experiment = args[6], detail = args[7],
  })
end

-- FCALL chaosbus_kill 0 ns user claimed reason -> {kills, at_ms, seq}
local function kill(_, args)
  local ns, user, claimed, reason = args[1], args[2], args[3], args[4] or ''
  local _, bad = caller(ns, user)
  if bad then return bad end
  local err = may('INCR', ns .. ':kills') or may('SET', ns .. ':kill:last', 'x')
  if err then return err end
  local _, notcounter = counter(ns .. ':kills')
  if notcounter then
    -- Not a counter: the switch already reads engaged (fail closed); nothing to add.
    return notcounter
  end
  local list, unrecorded = audit_ready(ns, user)
  local at = now_ms()
  local n = redis.call('INCR', ns .. ':kills')
  redis.call('SET', ns .. ':kill:last', cjson.encode({ actor = user, reason = reason, at_ms = tostring(at) }))
  redis.call('PUBLISH', ns .. ':control', 'kill')
  if unrecorded then
    return fail('ERR', 'kill switch engaged (kill ' .. n .. ') but not recorded in the audit log')
  end
  local seq = append(ns, list, user, at, { action = 'kill', claimed = claimed, detail = reason })
  return { n, at, seq }
end

-- FCALL chaosbus_release 0 ns user claimed action(unkill|init) -> {released?, covers, seq}
-- init writes only in a namespace with no history at all; it returns {0, 0, 0} otherwise.
local function release(_, args)
  local ns, user, claimed, action = args[1], args[2], args[3], args[4]
  local _, bad = caller(ns, user)
  if bad then return bad end
  if action ~= 'unkill' and action ~= 'init' then
    return fail('ERR', 'release action must be unkill or init')
  end
  local err = may('SET', ns .. ':kill', 'x')
  if err then return err end
  if action == 'init' and redis.call('EXISTS', ns .. ':kill', ns .. ':kills', ns .. ':audit:seq') > 0 then
    return { 0, 0, 0 }
  end
  local covers, notcounter = counter(ns .. ':kills')
  if notcounter then return notcounter end
  local list, unready = audit_ready(ns, user)
  if unready then return unready end
  local at = now_ms()
  redis.call('SET', ns .. ':kill', cjson.encode({
    state = 'released', actor = user, at_ms = at, covers = tostring(covers),
  }))
  local seq = append(ns, list, user, at, {
    action = action, claimed = claimed, detail = 'covers ' .. covers .. ' kills',
  })
  redis.call('PUBLISH', ns .. ':control', 'unkill')
  return { 1, covers, seq }
end

-- FCALL chaosbus_approve 0 ns user claimed area sha256 targets experiment plan ttl_ms
-- -> {at_ms, expires_ms, seq}
local function approve(_, args)
  local ns, user, claimed = args[1], args[2], args[3]
  local area, sha, targets, experiment, plan = args[4], args[5], args[6], args[7], args[8]
  local ttl = tonumber(args[9])
  local _, bad = caller(ns, user)
  if bad then return bad end
  if bad_name(area) or not string.match(sha or '', '^[0-9a-f]+$') or #sha ~= 64 then
    return fail('ERR', 'bad area or sha256')
  end
  if ttl == nil or ttl < 1000 or ttl > 2592000000 or ttl ~= math.floor(ttl) then
    return fail('ERR', 'a sign-off lasts from 1 s to 30 days')
  end
  local key = ns .. ':approval:' .. area .. ':' .. sha .. ':' .. user
  local err = may('SET', key, 'x')
  if err then return fail('NOPERM', 'may not sign off for ' .. area) end
  local list, unready = audit_ready(ns, user)
  if unready then return unready end
  local at = now_ms()
  local value = { area = area, sha256 = sha, targets = targets, experiment = experiment,
    at_ms = at, expires_ms = at + ttl }
  if plan ~= nil and plan ~= '' then value.plan = plan end
  local seq = append(ns, list, user, at, {
    action = 'approve', claimed = claimed, experiment = experiment,
    detail = area .. ' ' .. sha .. ' targets ' .. redis.sha1hex(targets or '') .. ' until ' .. (at + ttl),
  })
  value.seq = seq
  redis.call('SET', key, cjson.encode(value), 'PX', ttl)
  return { at, at + ttl, seq }
end

-- FCALL chaosbus_scope 0 ns user claimed field pause(1|0) reason -> 1 when it changed
local function scope(_, args)
  local ns, user, claimed, field, pause, reason = args[1], args[2], args[3], args[4], args[5], args[6] or ''
  local _, bad = caller(ns, user)
  if bad then return bad end
  if field == nil or field == '' or (pause ~= '1' and pause ~= '0') then
    return fail('ERR', 'bad scope')
  end
  local key = ns .. ':paused'
  local err = may(pause == '1' and 'HSET' or 'HDEL', key, field, 'x')
  if err then return err end
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'none' and kind ~= 'hash' then
    return fail('ERR', key .. ' holds a ' .. kind .. ', not a hash')
  end
  local list, unready = audit_ready(ns, user)
  if unready then return unready end
  local at = now_ms()
  local before = redis.call('HEXISTS', key, field)
  if pause == '1' then
    redis.call('HSET', key, field, cjson.encode({ actor = user, reason = reason, at_ms = at }))
  else
    redis.call('HDEL', key, field)
  end
  local detail = field
  if reason ~= '' then detail = field .. ': ' .. reason end
  append(ns, list, user, at, {
    action = pause == '1' and 'pause' or 'resume', claimed = claimed, detail = detail,
  })
  redis.call('PUBLISH', ns .. ':control', pause == '1' and 'pause' or 'resume')
  if (before == 1) ~= (pause == '1') then return 1 end
  return 0
end

redis.register_function('chaosbus_audit', audit)
redis.register_function('chaosbus_kill', kill)
redis.register_function('chaosbus_release', release)
redis.register_function('chaosbus_approve', approve)
redis.register_function('chaosbus_scope', scope)
