export function AnomaliesPage() {
  return <p className="pad">…</p>;
}
