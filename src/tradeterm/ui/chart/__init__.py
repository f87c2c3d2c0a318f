"""The candle chart's parts, pure functions of data: the view window and zoom aggregation
(:mod:`.view`), the price scale and axes (:mod:`.axes`), overlay series and SMC zones
(:mod:`.overlays`), trading marks (:mod:`.marks`), glyphs and styles (:mod:`.glyphs`), the
decorated column (:mod:`.paint`), the header line (:mod:`.header`) and the renderer that puts
them together (:mod:`.render`).

The widget lives in ``tradeterm.ui.widgets.chart``; the indicator pane aligns with its view.
"""
