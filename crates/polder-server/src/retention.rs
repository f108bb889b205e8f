//! Per-conversation retention: the link between a participant and the
//! embedding site's user (the xid) is dropped `retention_days` after they
//! joined, while their anonymous votes stay in the reports.

use polder_store::{Store, StoreError};

const MS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

/// Applies every conversation's retention setting as of `now_ms`. Returns
/// how many participant links were dropped. Conversations without a
/// setting keep links for as long as the conversation exists.
pub async fn apply(store: &dyn Store, now_ms: i64) -> Result<u64, StoreError> {
    let mut dropped = 0;
    for conversation in store.list_conversations().await? {
        let Some(days) = conversation.settings.retention_days else {
            continue;
        };
        let cutoff = now_ms.saturating_sub(i64::from(days).saturating_mul(MS_PER_DAY));
        let n = store
            .forget_participant_links(&conversation.id, cutoff)
            .await?;
        if n > 0 {
            tracing::info!(
                conversation = %conversation.id,
                links = n,
                days,
                "retention: dropped participant links"
            );
        }
        dropped += n;
    }
    Ok(dropped)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use polder_store::{NewConversation, NewParticipant, Settings};

    async fn with_xid(store: &dyn Store, retention_days: Option<u32>) -> String {
        let c = store
            .create_conversation(NewConversation {
                topic: "Harbour".into(),
                settings: Settings {
                    retention_days,
                    ..Default::default()
                },
                ..Default::default()
            })
            .await
            .unwrap();
        store
            .add_participant(
                &c.id,
                NewParticipant {
                    xid: Some("site-user".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        c.id
    }

    #[actix_web::test]
    async fn links_go_once_the_retention_period_has_passed() {
        let store = polder_store::open("sqlite::memory:").await.unwrap();
        let store = store.as_ref();
        let kept_forever = with_xid(store, None).await;
        let one_day = with_xid(store, Some(1)).await;
        let now = crate::time::now_ms();
        assert_eq!(apply(store, now).await.unwrap(), 0, "not a day old yet");
        assert!(
            store
                .find_participant_by_xid(&one_day, "site-user")
                .await
                .unwrap()
                .is_some()
        );
        let later = now + 2 * MS_PER_DAY;
        assert_eq!(apply(store, later).await.unwrap(), 1);
        assert!(
            store
                .find_participant_by_xid(&one_day, "site-user")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .find_participant_by_xid(&kept_forever, "site-user")
                .await
                .unwrap()
                .is_some(),
            "no retention setting: the link stays"
        );
    }
}
