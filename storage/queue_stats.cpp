#include "storage/queue_stats.h"

#include "storage/sql.h"

namespace storage {

namespace {

QueueStats queue_stats(Connection& c, const char* sql) {
  Prepared statement(c, sql);
  QueueStats stats;
  if ((*statement).executeStep()) {
    stats.depth = (*statement).getColumn(0).getInt64();
    if (!(*statement).getColumn(1).isNull()) stats.oldest_created_at = (*statement).getColumn(1).getString();
  }
  return stats;
}

}  // namespace

QueueStats sms_queue_stats(Connection& c) {
  return queue_stats(c, "SELECT count(*), min(created_at) FROM sms_jobs WHERE status = 'queued'");
}

QueueStats webhook_queue_stats(Connection& c) {
  return queue_stats(c, "SELECT count(*), min(created_at) FROM webhook_deliveries WHERE status = 'pending'");
}

}  // namespace storage
