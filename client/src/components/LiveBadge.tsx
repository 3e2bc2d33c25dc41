import { useI18n } from '../lib/i18n.js';
import { useLiveStatus } from '../lib/live.js';

/** Always visible: a reader must know when the figures may be behind. */
export function LiveBadge() {
  const status = useLiveStatus();
  const { t } = useI18n();
  const label = status === 'live' ? t('live') : status === 'connecting' ? t('connecting') : status === 'reconnecting' ? t('reconnecting') : t('offline');
  return (
    <span className={`live-badge ${status}`} data-testid="live-status" data-status={status} role="status" aria-live="polite">
      <span className="dot" />
      {label}
    </span>
  );
}
