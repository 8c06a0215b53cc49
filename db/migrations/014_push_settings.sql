-- Notification settings, per device (one push subscription each): what is
-- worth a notification, and a pause. Set by PATCH /push/subscriptions; the
-- queue (server/push/materialize.ts) reads them when a subscriber is due,
-- so a message skipped for them is never notified later (the cursor moves
-- past it like past any message that was told).
alter table push_subscriptions
  -- 'all': every message; 'mentions': only those that mention the
  -- subscriber's name or reply to a message verified under it; 'none':
  -- nothing (the subscription stays, for the settings to change back).
  add column mode text not null default 'all'
    check (mode in ('all', 'mentions', 'none')),
  -- Nothing is notified before this time; null: not muted.
  add column muted_until timestamptz;
