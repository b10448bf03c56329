"""The one module through which the panel imports Qt.

Every other module of :mod:`gui` takes its Qt names from here, so the binding (PyQt6)
is chosen in one place and a missing binding fails with one clear message.
"""

from __future__ import annotations

try:
    from PyQt6.QtCore import (
        QBuffer,
        QByteArray,
        QIODevice,
        QMimeData,
        QObject,
        QPoint,
        QPointF,
        QRectF,
        QSettings,
        QSize,
        Qt,
        QTimer,
        QUrl,
        pyqtSignal,
    )
    from PyQt6.QtGui import (
        QAction,
        QBrush,
        QCloseEvent,
        QColor,
        QDrag,
        QFont,
        QFontMetrics,
        QImage,
        QKeySequence,
        QMouseEvent,
        QPainter,
        QPaintEvent,
        QPalette,
        QPen,
        QPixmap,
        QResizeEvent,
        QShortcut,
    )
    from PyQt6.QtWidgets import (
        QApplication,
        QCheckBox,
        QComboBox,
        QDoubleSpinBox,
        QFileDialog,
        QFormLayout,
        QFrame,
        QGridLayout,
        QGroupBox,
        QHBoxLayout,
        QLabel,
        QLineEdit,
        QMainWindow,
        QMessageBox,
        QProgressBar,
        QPushButton,
        QScrollArea,
        QSizePolicy,
        QSlider,
        QSpinBox,
        QSplitter,
        QStatusBar,
        QTabWidget,
        QVBoxLayout,
        QWidget,
    )
except ImportError as err:  # pragma: no cover - depends on the installation
    raise ImportError(
        "the diffjam panel needs PyQt6: pip install 'diffjam[panel]' (or 'PyQt6>=6.6'); "
        "the engine and the server run without it"
    ) from err

try:  # Qt Multimedia is optional: without it (or without libpulse) the panel plays silently
    from PyQt6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices
except ImportError as err:  # pragma: no cover - depends on the installation
    # not a PyQt6 stub problem: the classes are absent here, and audition.py reads
    # MULTIMEDIA_ERROR before it touches them
    QAudioFormat = QAudioSink = QMediaDevices = None  # type: ignore[assignment,misc]
    MULTIMEDIA_ERROR: str | None = f"Qt Multimedia is not available: {err}"
else:
    MULTIMEDIA_ERROR = None

Signal = pyqtSignal

__all__ = [
    "MULTIMEDIA_ERROR",
    "QAction",
    "QApplication",
    "QAudioFormat",
    "QAudioSink",
    "QBrush",
    "QBuffer",
    "QByteArray",
    "QCheckBox",
    "QCloseEvent",
    "QColor",
    "QComboBox",
    "QDoubleSpinBox",
    "QDrag",
    "QFileDialog",
    "QFont",
    "QFontMetrics",
    "QFormLayout",
    "QFrame",
    "QGridLayout",
    "QGroupBox",
    "QHBoxLayout",
    "QIODevice",
    "QImage",
    "QKeySequence",
    "QLabel",
    "QLineEdit",
    "QMainWindow",
    "QMediaDevices",
    "QMessageBox",
    "QMimeData",
    "QMouseEvent",
    "QObject",
    "QPaintEvent",
    "QPainter",
    "QPalette",
    "QPen",
    "QPixmap",
    "QPoint",
    "QPointF",
    "QProgressBar",
    "QPushButton",
    "QRectF",
    "QResizeEvent",
    "QScrollArea",
    "QSettings",
    "QShortcut",
    "QSize",
    "QSizePolicy",
    "QSlider",
    "QSpinBox",
    "QSplitter",
    "QStatusBar",
    "QTabWidget",
    "QTimer",
    "QUrl",
    "QVBoxLayout",
    "QWidget",
    "Qt",
    "Signal",
]
