#include "runtime/endpoint/postgres/pg_output.h"

#include "runtime/pg/wire_reader.h"

namespace duet::pg::pgoutput {
namespace {

Status Malformed(const char* what) {
  return InvalidArgumentError(std::string("pgoutput: a malformed ") + what + " message");
}

bool ReadTuple(WireReader& in, Tuple* out) {
  uint16_t columns = 0;
  if (!in.U16(&columns)) return false;
  // Each column takes at least its kind byte: a count beyond what is left
  // is malformed, and never sizes an allocation.
  if (columns > in.left()) return false;
  out->resize(columns);
  for (Datum& d : *out) {
    uint8_t kind = 0;
    if (!in.U8(&kind)) return false;
    switch (kind) {
      case 'n':
      case 'u':
        d.kind = static_cast<Datum::Kind>(kind);
        break;
      case 't':
      case 'b': {
        uint32_t length = 0;
        std::string_view bytes;
        if (!in.U32(&length) || !in.Bytes(length, &bytes)) return false;
        d.kind = static_cast<Datum::Kind>(kind);
        d.data.assign(bytes);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

// An optional old tuple ('K' or 'O'), then, for an update, 'N' and the new.
bool ReadOldTuple(WireReader& in, uint8_t* kind, Tuple* old_row) {
  if (!in.U8(kind)) return false;
  if (*kind != 'K' && *kind != 'O') return false;
  return ReadTuple(in, old_row);
}

Expected<Message> ParseRelation(WireReader& in) {
  Relation r;
  uint16_t columns = 0;
  if (!in.U32(&r.oid) || !in.CString(&r.schema) || !in.CString(&r.name) ||
      !in.U8(&r.replica_identity) || !in.U16(&columns) || columns > in.left()) {
    return Malformed("relation");
  }
  r.columns.resize(columns);
  for (Column& c : r.columns) {
    uint32_t modifier = 0;
    if (!in.U8(&c.flags) || !in.CString(&c.name) || !in.U32(&c.type) || !in.U32(&modifier)) {
      return Malformed("relation");
    }
    c.modifier = static_cast<int32_t>(modifier);
  }
  return Message(std::move(r));
}

Expected<Message> ParseUpdate(WireReader& in) {
  Update u;
  uint8_t kind = 0;
  if (!in.U32(&u.relation) || !in.U8(&kind)) return Malformed("update");
  if (kind == 'K' || kind == 'O') {
    u.old_kind = kind;
    if (!ReadTuple(in, &u.old_row) || !in.U8(&kind)) return Malformed("update");
  }
  if (kind != 'N' || !ReadTuple(in, &u.row)) return Malformed("update");
  return Message(std::move(u));
}

Expected<Message> ParseTruncate(WireReader& in) {
  Truncate t;
  uint32_t count = 0;
  if (!in.U32(&count) || !in.U8(&t.options) || count > in.left() / 4) {
    return Malformed("truncate");
  }
  t.relations.resize(count);
  for (uint32_t& oid : t.relations) {
    if (!in.U32(&oid)) return Malformed("truncate");
  }
  return Message(std::move(t));
}

Expected<Message> ParseBody(uint8_t type, WireReader& in) {
  switch (type) {
    case 'B': {
      Begin b;
      if (!in.U64(&b.final_lsn) || !in.I64(&b.commit_time) || !in.U32(&b.xid)) {
        return Malformed("begin");
      }
      return Message(b);
    }
    case 'C': {
      Commit c;
      if (!in.U8(&c.flags) || !in.U64(&c.commit_lsn) || !in.U64(&c.end_lsn) ||
          !in.I64(&c.commit_time)) {
        return Malformed("commit");
      }
      return Message(c);
    }
    case 'O': {
      Origin o;
      if (!in.U64(&o.lsn) || !in.CString(&o.name)) return Malformed("origin");
      return Message(std::move(o));
    }
    case 'R':
      return ParseRelation(in);
    case 'Y': {
      Type t;
      if (!in.U32(&t.oid) || !in.CString(&t.schema) || !in.CString(&t.name)) {
        return Malformed("type");
      }
      return Message(std::move(t));
    }
    case 'I': {
      Insert i;
      uint8_t kind = 0;
      if (!in.U32(&i.relation) || !in.U8(&kind) || kind != 'N' || !ReadTuple(in, &i.row)) {
        return Malformed("insert");
      }
      return Message(std::move(i));
    }
    case 'U':
      return ParseUpdate(in);
    case 'D': {
      Delete d;
      if (!in.U32(&d.relation) || !ReadOldTuple(in, &d.old_kind, &d.old_row)) {
        return Malformed("delete");
      }
      return Message(std::move(d));
    }
    case 'T':
      return ParseTruncate(in);
    default:
      return InvalidArgumentError("pgoutput: unknown message type " +
                                  std::to_string(static_cast<int>(type)));
  }
}

}  // namespace

Expected<Message> Parse(std::string_view bytes) {
  WireReader in(bytes);
  uint8_t type = 0;
  if (!in.U8(&type)) return InvalidArgumentError("pgoutput: an empty message");
  Expected<Message> message = ParseBody(type, in);
  if (message.ok() && in.left() != 0) {
    return InvalidArgumentError("pgoutput: " + std::to_string(in.left()) +
                                " unexpected bytes after a message of type " +
                                std::to_string(static_cast<int>(type)));
  }
  return message;
}

}  // namespace duet::pg::pgoutput
