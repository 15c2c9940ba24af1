"""One module per figure of the paper (docs/science.md section 5), plus the theory figures and
the targets figure (``targets``: m_50 against width per target, docs/targets.md).

Each module has ``render(...) -> list[Path]`` (PNG and PDF, written atomically) and a
``python -m paper_figs.<name>`` entry. Drawing functions run under the package's own style
(``paper_figs.common.styled``) and never change the user's matplotlib settings.
:data:`STORE_FIGURES` are drawn from a results store (``frontier figs``); ``fig3`` is drawn
from a tabular study's trials (``frontier tabular``).
"""

from paper_figs import fig1, fig2, fig4, fig5, targets, theory_figs

#: Figures drawn from a results store, by the name ``frontier figs --only`` takes.
STORE_FIGURES = {"fig1": fig1.render, "fig2": fig2.render, "fig4": fig4.render, "fig5": fig5.render,
                 "theory": theory_figs.render, "targets": targets.render}
