// A confusion matrix as a heatmap table: rows are the actual class, columns the predicted one.
export function ConfusionMatrix({ matrix, labels }: { matrix: number[][]; labels: string[] }) {
  const max = Math.max(1, ...matrix.flat());
  const total = matrix.flat().reduce((a, b) => a + b, 0);
  return (
    <div className="heatmap-wrap">
      <table className="heatmap" data-testid="confusion-matrix" data-total={total}>
        <thead>
          <tr>
            <th className="corner">actual ↓ / predicted →</th>
            {labels.map((l) => (
              <th key={l} title={l}>
                {l}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => (
            <tr key={i}>
              <th title={labels[i]}>{labels[i]}</th>
              {row.map((v, j) => {
                const a = v / max;
                return (
                  <td
                    key={j}
                    data-testid="cm-cell"
                    data-value={v}
                    title={`actual ${labels[i]}, predicted ${labels[j]}: ${v}`}
                    className={a > 0.55 ? 'dark' : undefined}
                    style={{ backgroundColor: i === j ? `rgba(37, 99, 235, ${0.06 + 0.94 * a})` : `rgba(220, 38, 38, ${0.04 + 0.9 * a})` }}
                  >
                    {v}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
