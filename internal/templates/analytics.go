package templates

import "time"

// AnalyticsFresh is how long a read of Meta's template analytics counts for dormancy: an older
// one says nothing about the last days. The reads themselves are internal/insights' background
// fetch, which stores the daily points and, for onboarded WABAs, each template's
// MetaLastSentAt (latest day with MM API sends) and MetaSentReadAt (when Meta answered).
const AnalyticsFresh = 48 * time.Hour
