"""The results page: a Markdown report and a chart of query latencies per engine."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def chart(path, query_types, engines, medians_ms):
    """Grouped horizontal bars, median latency per query type and engine, log scale."""
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(query_types) * len(engines) / 2 + 2))
    height = 0.8 / len(engines)
    for i, engine in enumerate(engines):
        ys = [q + i * height for q in range(len(query_types))]
        xs = [medians_ms[(query, engine)] for query in query_types]
        ax.barh(ys, xs, height=height, label=engine)
    ax.set_yticks([q + 0.4 - height / 2 for q in range(len(query_types))])
    ax.set_yticklabels(query_types)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("median latency, ms (log scale)")
    ax.legend(loc="lower right")
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
