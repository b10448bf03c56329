"""The one module through which the panel imports Qt.

Every other module of :mod:`gui` takes its Qt names from here, so the binding (PyQt6)
is chosen in one place and a missing binding fails with one clear message.
"""

from __future__ import annotations

try:
    from PyQt6.QtCore import (
        QByteArray,
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
        QImage,
        QKeySequence,
        QMouseEvent,
        QPainter,
        QPaintEvent,
        QPalette,
        QPen,
        QPixmap,
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

Signal = pyqtSignal

__all__ = [
    "QAction",
    "QApplication",
    "QBrush",
    "QByteArray",
    "QCheckBox",
    "QCloseEvent",
    "QColor",
    "QComboBox",
    "QDoubleSpinBox",
    "QDrag",
    "QFileDialog",
    "QFont",
    "QFormLayout",
    "QFrame",
    "QGridLayout",
    "QGroupBox",
    "QHBoxLayout",
    "QImage",
    "QKeySequence",
    "QLabel",
    "QLineEdit",
    "QMainWindow",
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
