"""The chat's stylesheet. A Python string rather than a .tcss file, so that it is
installed with the package whatever the packaging config says about data files."""

CSS = """
#status {
    height: 1;
    text-wrap: nowrap;
    text-overflow: ellipsis;
    padding: 0 1;
    background: $panel;
}
#panes {
    height: 1fr;
}
#conversation, #sources {
    border: round $primary 50%;
    border-title-color: $text-muted;
    border-subtitle-color: $text-muted;
    padding: 0 1;
    scrollbar-size-vertical: 1;
    scrollbar-gutter: stable;  /* text doesn't rewrap when a scrollbar appears */
}
#conversation:focus-within, #sources:focus-within {
    border: round $primary;
}
#conversation {
    width: 3fr;
}
#sources {
    width: 2fr;
}
ChatScreen.-narrow #panes {
    layout: vertical;
}
ChatScreen.-narrow #conversation {
    width: 1fr;
    height: 3fr;
}
ChatScreen.-narrow #sources {
    width: 1fr;
    height: 2fr;
}
.exchange, .notice, #welcome {
    margin-bottom: 1;
}
.exchange {
    /* the [n] markers are click actions: styled as markers, not as web links */
    link-color: $accent;
    link-background: $background 0%;
    link-style: bold;
    link-color-hover: $background;
    link-background-hover: $accent;
    link-style-hover: bold;
}
#question {
    margin: 0 0;
}
ModalScreen {
    align: center middle;
}
.dialog {
    width: 84;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    padding: 0 1;
    border: thick $primary;
    background: $surface;
}
.dialog Label {
    margin-top: 1;
}
#filter SelectionList {
    height: auto;
    max-height: 8;
}
#filter .row {
    height: 1;
}
#filter .labels {
    margin-top: 1;
}
#filter .row Input, #filter .row Label {
    width: 1fr;
    margin: 0 1 0 0;
}
#answerer {
    layout: horizontal;
    width: auto;
    height: auto;
}
#answerer RadioButton {
    margin-right: 2;
}
#filter #problem {
    height: auto;
    margin-top: 1;
}
#filter #problem.empty {
    display: none;
}
.buttons {
    height: 1;
    margin: 1 0;
}
.buttons Button {
    margin-right: 2;
}
#export Input {
    margin-top: 1;
}
#export #problem {
    margin-bottom: 1;
}
"""
