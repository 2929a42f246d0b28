// Depth and age of the durable work queues (queued SMS jobs, pending webhook deliveries), for
// metrics. One aggregate query each over the partial "due" indexes. Stateless; callers bring
// the connection.
#pragma once

#include "storage/sql.h"


#include <optional>
#include <string>

namespace storage {

struct QueueStats {
  long long depth = 0;
  std::optional<std::string> oldest_created_at;  // nullopt when the queue is empty
};

// sms_jobs with status 'queued'.
QueueStats sms_queue_stats(Connection& c);
// webhook_deliveries with status 'pending'.
QueueStats webhook_queue_stats(Connection& c);

}  // namespace storage
