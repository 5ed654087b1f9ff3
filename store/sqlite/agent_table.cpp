// agents (docs/schema.md).
#include "store/sqlite/tables.hpp"

namespace anshin::store::sqlite_impl {
namespace {

#define ANSHIN_AGENT_COLS                                                                \
  "id, name, facility_id, cert_sha256, status, enrolled_at, last_contact, last_health, " \
  "skew_ms, acked_through, gap_from, gap_to, cert_not_after"

Result<Agent> ReadAgent(const Query& q) {
  Agent a;
  a.id = AgentId{q.Int(0)};
  a.name = q.Text(1);
  a.facility = FacilityId{q.Int(2)};
  a.cert_sha256 = q.Text(3);
  ANSHIN_ASSIGN_OR_RETURN(a.status, kAgentStatusNames.Parse(q.TextView(4)));
  a.enrolled_at = FromUnixMillis(q.Int(5));
  a.last_contact = OptTime(q, 6);
  a.last_health_json = q.Text(7);
  a.skew_ms = q.Int(8);
  a.acked_through = static_cast<std::uint64_t>(q.Int(9));
  if (!q.IsNull(10)) {
    a.gap =
        wire::SeqGap{static_cast<std::uint64_t>(q.Int(10)), static_cast<std::uint64_t>(q.Int(11))};
  }
  a.cert_not_after = OptTime(q, 12);
  return a;
}

}  // namespace

Result<std::optional<Agent>> SqliteAgents::Find(std::string_view name) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_AGENT_COLS " FROM agents WHERE name = ?"));
  q.Bind(1, name);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Agent>();
  ANSHIN_ASSIGN_OR_RETURN(Agent a, ReadAgent(q));
  return std::optional<Agent>(std::move(a));
}

Result<std::vector<Agent>> SqliteAgents::List() {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_AGENT_COLS " FROM agents ORDER BY name"));
  std::vector<Agent> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(Agent a, ReadAgent(q));
    out.push_back(std::move(a));
    return Status::Ok();
  }));
  return out;
}

Result<AgentId> SqliteAgents::Insert(const Agent& a) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("INSERT INTO agents(name, facility_id, cert_sha256, status, "
                                      "enrolled_at, cert_not_after) VALUES (?, ?, ?, ?, ?, ?)"));
  q.Bind(1, a.name).Bind(2, a.facility.value).Bind(3, a.cert_sha256);
  q.Bind(4, kAgentStatusNames.Name(a.status)).Bind(5, ToUnixMillis(a.enrolled_at));
  BindTime(q, 6, a.cert_not_after);
  ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("agent " + a.name));
  return AgentId{db_.LastInsertRowid()};
}

Result<AgentId> SqliteAgents::ConsoleUploader(FacilityId facility, TimePoint at) {
  {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("SELECT id FROM agents WHERE facility_id = ? AND kind = 'console'"));
    q.Bind(1, facility.value);
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) return AgentId{q.Int(0)};
  }
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO agents(name, facility_id, cert_sha256, status, "
                           "enrolled_at, kind) VALUES (?, ?, '', 'active', ?, 'console')"));
  q.Bind(1, "console:" + facility.ToString()).Bind(2, facility.value).Bind(3, ToUnixMillis(at));
  ANSHIN_RETURN_IF_ERROR(
      q.Run().WithContext("the console uploader of facility " + facility.ToString()));
  return AgentId{db_.LastInsertRowid()};
}

Status SqliteAgents::SetStatus(AgentId id, AgentStatus status) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("UPDATE agents SET status = ? WHERE id = ?"));
  q.Bind(1, kAgentStatusNames.Name(status)).Bind(2, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "agent " + id.ToString());
}

Status SqliteAgents::RecordContact(AgentId id, const AgentContact& c) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("UPDATE agents SET last_contact = ?, skew_ms = ?, "
                                      "last_health = COALESCE(?, last_health), acked_through = ?, "
                                      "gap_from = ?, gap_to = ? WHERE id = ?"));
  q.Bind(1, ToUnixMillis(c.at)).Bind(2, c.skew_ms).Bind(3, c.health_json).Bind(4, c.acked_through);
  if (c.gap) {
    q.Bind(5, c.gap->from).Bind(6, c.gap->to);
  } else {
    q.BindNull(5).BindNull(6);
  }
  q.Bind(7, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "agent " + id.ToString());
}

Status SqliteAgents::SetCertificate(AgentId id, std::string_view cert_sha256, TimePoint not_after) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE agents SET cert_sha256 = ?, cert_not_after = ? WHERE id = ?"));
  q.Bind(1, cert_sha256).Bind(2, ToUnixMillis(not_after)).Bind(3, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "agent " + id.ToString());
}

Status SqliteAgents::SetAcked(AgentId id, std::uint64_t acked_through,
                              const std::optional<wire::SeqGap>& gap) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("UPDATE agents SET acked_through = ?, gap_from = ?, gap_to = ? WHERE id = ?"));
  q.Bind(1, acked_through);
  if (gap) {
    q.Bind(2, gap->from).Bind(3, gap->to);
  } else {
    q.BindNull(2).BindNull(3);
  }
  q.Bind(4, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "agent " + id.ToString());
}

Result<std::vector<SkewSample>> SqliteAgents::SkewSamples(AgentId id, TimePoint since) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT at, skew_ms FROM agent_skew_samples "
                                               "WHERE agent_id = ? AND at >= ? ORDER BY at"));
  q.Bind(1, id.value).Bind(2, ToUnixMillis(since));
  std::vector<SkewSample> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&] {
    out.push_back(SkewSample{FromUnixMillis(q.Int(0)), q.Int(1)});
  }));
  return out;
}

Result<std::optional<SkewSample>> SqliteAgents::LastSkewSample(AgentId id) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT at, skew_ms FROM agent_skew_samples "
                                               "WHERE agent_id = ? ORDER BY at DESC LIMIT 1"));
  q.Bind(1, id.value);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<SkewSample>();
  return std::optional<SkewSample>(SkewSample{FromUnixMillis(q.Int(0)), q.Int(1)});
}

Status SqliteAgents::RecordSkewSample(AgentId id, const SkewSample& s) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO agent_skew_samples(agent_id, at, skew_ms) VALUES (?, ?, ?) "
                           "ON CONFLICT(agent_id, at) DO UPDATE SET skew_ms = excluded.skew_ms"));
  q.Bind(1, id.value).Bind(2, ToUnixMillis(s.at)).Bind(3, s.skew_ms);
  return q.Run().WithContext("skew sample of agent " + id.ToString());
}

Result<int> SqliteAgents::DeleteSkewSamplesBefore(TimePoint cutoff, int limit) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("DELETE FROM agent_skew_samples WHERE (agent_id, at) IN "
                           "(SELECT agent_id, at FROM agent_skew_samples WHERE at < ? LIMIT ?)"));
  q.Bind(1, ToUnixMillis(cutoff)).Bind(2, limit);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return db_.Changes();
}

}  // namespace anshin::store::sqlite_impl
