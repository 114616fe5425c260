"""The Redis store's Lua scripts: each write is one script, atomic on the server.

Every script touches the keys of one stream and of the stream's shard only, so it
runs unchanged on a cluster (docs/format.md, "Redis"). Catalog changes are computed
by the client (l0core.stores.redis_catalog) and applied here only when the stream
is still in the state they were computed from: its top entry's batch id and last
seq, and the batch id the summary hash records, all as the client saw them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from l0core.codec import dumps

# Shared prologue: the server clock and reading a stream's top entry.
_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function seq_of(id)
  return tonumber(string.match(id, '^0%-(%d+)$')) - 1
end
local function top_of(skey)
  local top = redis.call('XREVRANGE', skey, '+', '-', 'COUNT', 1)
  if #top == 0 then return -1, '' end
  local fields = top[1][2]
  for j = 1, #fields, 2 do
    if fields[j] == 'b' then return seq_of(top[1][1]), fields[j + 1] end
  end
  return seq_of(top[1][1]), ''
end
local function stale(skey, sumkey)
  local last, top_b = top_of(skey)
  local reply = {4, last, top_b}
  local h = redis.call('HGETALL', sumkey)
  for i = 1, #h do reply[3 + i] = h[i] end
  return reply
end
local function apply_op(key, op)
  local kind = string.sub(op, 1, 1)
  if kind == '+' then
    redis.call('ZADD', key, 0, string.sub(op, 2))
  elseif kind == '-' then
    redis.call('ZREM', key, string.sub(op, 2))
  else -- '~<bytes>:<old><new>'
    local colon = string.find(op, ':', 2, true)
    local n = tonumber(string.sub(op, 2, colon - 1))
    redis.call('ZREM', key, string.sub(op, colon + 1, colon + n))
    redis.call('ZADD', key, 0, string.sub(op, colon + n + 1))
  end
end
local function apply_sets(first_key, first_arg, count)
  for i = 0, count - 1 do apply_op(KEYS[first_key + i], ARGV[first_arg + i]) end
end
local function notify(catkey, channel, command, sid)
  redis.call('HINCRBY', catkey, 'v', 1)
  -- pcall: a user the ACL forbids the channel still appends (followers then poll)
  if channel ~= '' then redis.pcall(command, channel, sid) end
end
"""

# KEYS: stream, snapshots, index, summary, content, catalog, then one catalog set per
#       set op.
# ARGV[1]: a JSON array (decoded by cjson, in C: far cheaper than splitting text in
#       Lua): 1 stream id, 2 expected seq ('' = any), 3 ttl ms, 4 batch id, 5 retry
#       '1'/'0', 6 dedupe window ms, 7 basis batch id ('' = no stream), 8 basis last
#       seq, 9 batch id the summary hash must record ('' = no hash; checked only with
#       rewrite), 10 rewrite '1'/'0' (the hash is written from scratch), 11 content op
#       ('', 'S' set, 'A' append), 12 channel ('' = none), 13 PUBLISH or SPUBLISH,
#       14 expiring '1'/'0' (the stream had a TTL), 15 summary field/value pairs (an
#       array), 16 one op per set key (apply_op);
# then one JSON text per event, and the content text (only with a content op).
# Returns {0, last seq} appended, {1, last seq} conflict, {2, seq} found by a retry,
# {3, -1, key, type} a key holds another type (written by something else), or
# {4, last seq, top batch id, summary hash...} the summary basis is stale.
#
# Every check comes before the first write, and nothing after it can fail on keys of
# ours, so an append is written whole or not at all. The key types are checked when
# the stream is created (XREVRANGE itself refuses a stream key of another type).
APPEND = _PRELUDE + """
local skey, snapkey, idx = KEYS[1], KEYS[2], KEYS[3]
local sumkey, ckey, catkey = KEYS[4], KEYS[5], KEYS[6]
local top = redis.pcall('XREVRANGE', skey, '+', '-', 'COUNT', 1)
if top['err'] or #top == 0 then
  local wanted = {'stream', 'zset', 'zset', 'hash'}
  for i = 1, 4 do
    local found = redis.call('TYPE', KEYS[i])['ok']
    if found ~= 'none' and found ~= wanted[i] then
      return {3, -1, KEYS[i], found}
    end
  end
end
local last, top_b = -1, ''
if #top > 0 then
  last = seq_of(top[1][1])
  local fields = top[1][2]
  for j = 1, #fields, 2 do
    if fields[j] == 'b' then top_b = fields[j + 1] end
  end
end
local w = cjson.decode(ARGV[1])
local sid, expected, ttl, batch = w[1], w[2], tonumber(w[3]), w[4]
local retry, window, rewrite = w[5] == '1', tonumber(w[6]), w[10] == '1'
if retry and last >= 0 then
  local hi = '+'
  local stop = false
  while not stop do
    local chunk = redis.call('XREVRANGE', skey, hi, '-', 'COUNT', 512)
    if #chunk == 0 then break end
    for i = 1, #chunk do
      local fields = chunk[i][2]
      local b, at = nil, nil
      for j = 1, #fields, 2 do
        if fields[j] == 'b' then b = fields[j + 1]
        elseif fields[j] == 't' then at = tonumber(fields[j + 1]) end
      end
      if b == batch then
        -- a write, so that a WAIT after this script also covers the batch found
        redis.call('HINCRBY', catkey, 'v', 1)
        return {2, seq_of(chunk[i][1])}
      end
      if at ~= nil and at < now - window then
        stop = true
        break
      end
    end
    hi = '(' .. chunk[#chunk][1]
  end
end
if expected ~= '' and tonumber(expected) ~= last then
  return {1, last}
end
if top_b ~= w[7] or last ~= tonumber(w[8]) or
   (rewrite and (redis.call('HGET', sumkey, 'b') or '') ~= w[9]) then
  return stale(skey, sumkey)
end
local content = w[11] ~= ''
local n = #ARGV - 1
if content then n = n - 1 end
if rewrite then redis.call('DEL', sumkey) end
local hs = {'HSET', sumkey, 'b', batch}
local fv = w[15]
for i = 1, #fv do hs[#hs + 1] = fv[i] end
if ttl > 0 then
  hs[#hs + 1] = 'x'
  hs[#hs + 1] = string.format('%d', now + ttl)
end
redis.call(unpack(hs))
local ops = w[16]
for i = 1, #ops do apply_op(KEYS[6 + i], ops[i]) end
for i = 1, n do
  local id = '0-' .. string.format('%d', last + 1 + i)
  if i == n then
    redis.call('XADD', skey, id, 'e', ARGV[1 + i], 'b', batch, 't', string.format('%d', now))
  else
    redis.call('XADD', skey, id, 'e', ARGV[1 + i])
  end
end
if last == -1 then redis.call('DEL', ckey) end
if w[11] == 'S' then
  redis.call('SET', ckey, ARGV[#ARGV])
elseif w[11] == 'A' then
  redis.call('APPEND', ckey, ARGV[#ARGV])
end
if ttl > 0 then
  redis.call('PEXPIRE', skey, ttl)
  redis.call('PEXPIRE', snapkey, ttl)
  redis.call('PEXPIRE', ckey, ttl)
  redis.call('ZADD', idx, string.format('%d', now + ttl), sid)
elseif last == -1 or rewrite or w[14] == '1' then
  redis.call('PERSIST', skey)
  redis.call('PERSIST', snapkey)
  redis.call('PERSIST', ckey)
  redis.call('HDEL', sumkey, 'x')
  redis.call('ZADD', idx, '+inf', sid)
end
notify(catkey, w[12], w[13], sid)
return {0, last + n}
"""

# The summary of a stream written before the catalog (or by an older writer), folded
# by the client: l0tui index and the first catalog call of a writable open.
# KEYS: stream, index, summary, content, catalog, then one catalog set per set change.
# ARGV: 1 stream id, 2 basis batch id, 3 basis last seq, 4 batch id the hash records
#       now ('' = none), 5 content op ('', 'S', 'D' delete), 6 content text,
#       7 channel, 8 PUBLISH or SPUBLISH, 9 F, then F field/value pairs, then one
#       '+member' or '-member' per set key.
# Returns {0} written, {4, ...} stale (as APPEND), {5} the stream is gone.
PUT_SUMMARY = _PRELUDE + """
local skey, idx, sumkey, ckey, catkey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local last, top_b = top_of(skey)
if last == -1 then return {5} end
local hb = redis.call('HGET', sumkey, 'b') or ''
if top_b ~= ARGV[2] or last ~= tonumber(ARGV[3]) or hb ~= ARGV[4] then
  return stale(skey, sumkey)
end
redis.call('DEL', sumkey)
local nf = tonumber(ARGV[9])
local hs = {'HSET', sumkey, 'b', top_b}
for i = 10, 9 + 2 * nf do hs[#hs + 1] = ARGV[i] end
local expiry = redis.call('ZSCORE', idx, ARGV[1])
if expiry and expiry ~= 'inf' then
  hs[#hs + 1] = 'x'
  hs[#hs + 1] = expiry
end
redis.call(unpack(hs))
apply_sets(6, 10 + 2 * nf, #KEYS - 5)
if ARGV[5] == 'S' then
  redis.call('SET', ckey, ARGV[6])
  local pttl = redis.call('PTTL', skey)
  if pttl > 0 then redis.call('PEXPIRE', ckey, pttl) end
elseif ARGV[5] == 'D' then
  redis.call('DEL', ckey)
end
notify(catkey, ARGV[7], ARGV[8], ARGV[1])
return {0}
"""

# Delete a stream and its catalog records; with 'gone' only if the stream key no
# longer exists (it expired): the sweep of expired streams.
# KEYS: stream, snapshots, index, summary, content, catalog, then the catalog sets.
# ARGV: 1 stream id, 2 batch id the hash records ('' = none), 3 channel,
#       4 PUBLISH or SPUBLISH, 5 'gone' or 'any', then one member per set key.
# Returns {0} removed, {4, ...} stale (as APPEND), {6} alive (not removed).
REMOVE = _PRELUDE + """
local skey, snapkey, idx = KEYS[1], KEYS[2], KEYS[3]
local sumkey, ckey, catkey = KEYS[4], KEYS[5], KEYS[6]
if ARGV[5] == 'gone' and redis.call('EXISTS', skey) == 1 then return {6} end
local hb = redis.call('HGET', sumkey, 'b') or ''
if hb ~= ARGV[2] then return stale(skey, sumkey) end
redis.call('DEL', skey, snapkey, sumkey, ckey)
redis.call('ZREM', idx, ARGV[1])
for i = 7, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[i - 1])
end
notify(catkey, ARGV[3], ARGV[4], ARGV[1])
return {0}
"""

# KEYS: meta. ARGV: shard count ('' on a single node). An empty prefix's marker is
# made whole in one step: concurrent first opens never see a hash without its
# "built" field, and the first one's shard count is the one that stays.
CREATE_META = """
if ARGV[1] ~= '' then
  redis.call('HSETNX', KEYS[1], 'shards', ARGV[1])
end
redis.call('HSET', KEYS[1], 'built', 1)
return 1
"""

# KEYS: snapshots, stream. ARGV: seq, snapshot JSON, ttl ms.
SAVE_SNAPSHOT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local pttl = redis.call('PTTL', KEYS[2])
if pttl > 0 then
  redis.call('PEXPIRE', KEYS[1], pttl)
elseif pttl == -2 and tonumber(ARGV[3]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
"""

# KEYS: stream. ARGV: first id, last id, count. Returns {first id, last id, JSON array
# of the events}: one bulk string instead of a nested reply per entry, which is
# what redis-py's pure-Python parser spends its time on.
READ = """
local entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', ARGV[3])
local n = #entries
if n == 0 then return {} end
local parts = {}
for i = 1, n do
  local fields = entries[i][2]
  for j = 1, #fields, 2 do
    if fields[j] == 'e' then
      parts[i] = fields[j + 1]
      break
    end
  end
end
return {entries[1][1], entries[n][1], '[' .. table.concat(parts, ',') .. ']'}
"""


# KEYS: summary hashes. ARGV: (hash field, JSON key, kind) triples, kind 's' for text
# (JSON-escaped), 'r' for a value stored as JSON or as a number (copied as it is).
# The first triple names the field every summary hash has. Returns one JSON array:
# per key, null when the hash lacks that field, else an object of the asked fields
# it has. One bulk string for a page of summaries, parsed in C by the client,
# instead of a reply of a dozen values per stream that redis-py turns into objects
# one by one (a whole hash is read: HGETALL costs less than HMGET of every field).
GATHER = """
local key_of, text = {}, {}
for i = 1, #ARGV, 3 do
  key_of[ARGV[i]] = '"' .. ARGV[i + 1] .. '":'
  text[ARGV[i]] = ARGV[i + 2] == 's'
end
local must = ARGV[1]
local out, m = {'['}, 1
for k = 1, #KEYS do
  if k > 1 then m = m + 1; out[m] = ',' end
  local h = redis.call('HGETALL', KEYS[k])
  local found = false
  for j = 1, #h, 2 do
    if h[j] == must then found = true; break end
  end
  if not found then
    m = m + 1; out[m] = 'null'
  else
    local sep = '{'
    for j = 1, #h, 2 do
      local f = h[j]
      local key = key_of[f]
      if key then
        local v = h[j + 1]
        m = m + 1; out[m] = sep
        m = m + 1; out[m] = key
        if text[f] then
          if string.find(v, '[%z\1-\31"\\]') then
            v = cjson.encode(v)
          else
            m = m + 1; out[m] = '"'
            m = m + 1; out[m] = v
            v = '"'
          end
        end
        m = m + 1; out[m] = v
        sep = ','
      end
    end
    m = m + 1; out[m] = '}'
  end
end
m = m + 1; out[m] = ']'
return table.concat(out)
"""

# KEYS: summary hashes. ARGV: the fields of redis_catalog.PACKED_READ (packed, live
# packed, expiry, batch id), then each key's stream id as a JSON string. Returns one
# JSON array: per key, null when there is no summary hash, else
# [id, <the packed array's items>, <the live packed numbers>, expiry or null]
# (redis_catalog.packed_summaries). Returns false as soon as a summary hash lacks the
# packed fields (an older writer's): the caller reads the page with GATHER instead.
# Three fields per stream and one concatenation, against GATHER's every field and a
# JSON encoding of each.
GATHER_PACKED = """
local p, q, x, b = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local out, m = {'['}, 1
for k = 1, #KEYS do
  if k > 1 then m = m + 1; out[m] = ',' end
  local h = redis.call('HMGET', KEYS[k], p, q, x)
  if h[1] and h[2] then
    m = m + 1
    out[m] = '[' .. ARGV[4 + k] .. ',' .. string.sub(h[1], 2, -2) .. ',' .. h[2] .. ',' ..
             (h[3] or 'null') .. ']'
  elseif redis.call('HEXISTS', KEYS[k], b) == 1 then
    return false
  else
    m = m + 1; out[m] = 'null'
  end
end
m = m + 1; out[m] = ']'
return table.concat(out)
"""

@dataclass(slots=True)
class AppendCall:
    """The keys and arguments of one APPEND call; ``args(retry)`` for each attempt."""

    keys: list[str]
    header: list[Any]
    tail: list[bytes | str]

    def args(self, retry: bool) -> list[bytes | str]:
        self.header[4] = "1" if retry else "0"
        return [dumps(self.header), *self.tail]


def append_call(
    *, stream_keys: Sequence[str], stream_id: str, expected_seq: int | None, ttl: int,
    batch: str, window_ms: int, basis_batch: str, basis_last: int, hash_batch: str,
    rewrite: bool, expiring: bool, content_op: str, content: str, channel: str,
    publish: str, fields: Sequence[str | bytes], sets: Sequence[tuple[str, str]],
    payload: Sequence[bytes],
) -> AppendCall:
    """APPEND's keys and arguments in the layout its comment describes."""
    values = [v.decode() if isinstance(v, bytes) else v for v in fields]
    header: list[Any] = [
        stream_id, "" if expected_seq is None else str(expected_seq), str(ttl), batch, "0",
        str(window_ms), basis_batch, str(basis_last), hash_batch, "1" if rewrite else "0",
        content_op, channel, publish, "1" if expiring else "0", values,
        [op for _, op in sets]]
    tail: list[bytes | str] = list(payload)
    if content_op:
        tail.append(content)
    return AppendCall([*stream_keys, *(key for key, _ in sets)], header, tail)

