{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 5,
			"revision": 5,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [ 100, 100, 760, 1000 ],
		"openrect": [ 0, 0, 0, 169 ],
		"bglocked": 0,
		"openinpresentation": 1,
		"default_fontsize": 10,
		"default_fontface": 0,
		"default_fontname": "Arial Bold",
		"gridonopen": 1,
		"gridsize": [ 8, 8 ],
		"gridsnaponopen": 1,
		"objectsnaponopen": 1,
		"statusbarvisible": 2,
		"toolbarvisible": 1,
		"boxanimatetime": 500,
		"enablehscroll": 1,
		"enablevscroll": 1,
		"devicewidth": 470,
		"description": "diffjam: infill or accompany the selected MIDI clip with the local diffjam engine (OSC).",
		"digest": "Piano-roll diffusion for the selected clip",
		"tags": "diffjam midi generate infill accompany osc",
		"style": "",
		"subpatcher_template": "",
		"boxes": [
			{
				"box": {
					"id": "obj-1",
					"maxclass": "newobj",
					"text": "live.thisdevice",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [ "bang", "int", "int" ],
					"patching_rect": [ 16, 16, 85, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-2",
					"maxclass": "message",
					"text": "init",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 16, 48, 32, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-3",
					"maxclass": "newobj",
					"text": "udpreceive 9001",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 130, 48, 96, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-4",
					"maxclass": "newobj",
					"text": "js diffjam.js",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [ "", "", "" ],
					"patching_rect": [ 16, 330, 260, 22 ],
					"saved_object_attributes": {
						"filename": "diffjam.js",
						"parameter_enable": 0
					}
				}
			},
			{
				"box": {
					"id": "obj-5",
					"maxclass": "newobj",
					"text": "route note send",
					"numinlets": 2,
					"numoutlets": 3,
					"outlettype": [ "", "", "" ],
					"patching_rect": [ 16, 370, 110, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-6",
					"maxclass": "newobj",
					"text": "unpack 0. 0. 0 0",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [ "float", "float", "int", "int" ],
					"patching_rect": [ 16, 400, 110, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-7",
					"maxclass": "newobj",
					"text": "pack 0. 0. 0 0",
					"numinlets": 4,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 16, 430, 110, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-8",
					"maxclass": "newobj",
					"text": "zl group 1024 @zlmaxsize 1024",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [ "", "" ],
					"patching_rect": [ 16, 460, 190, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-9",
					"maxclass": "newobj",
					"text": "t a b",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [ "", "bang" ],
					"patching_rect": [ 220, 400, 40, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-10",
					"maxclass": "newobj",
					"text": "zl join @zlmaxsize 1100",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [ "", "" ],
					"patching_rect": [ 220, 490, 150, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-11",
					"maxclass": "newobj",
					"text": "prepend /diffjam/notes",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 220, 520, 140, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-12",
					"maxclass": "newobj",
					"text": "udpsend 127.0.0.1 9000",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [  ],
					"patching_rect": [ 220, 560, 150, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-13",
					"maxclass": "newobj",
					"text": "midiin",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "int" ],
					"patching_rect": [ 460, 16, 45, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-14",
					"maxclass": "newobj",
					"text": "midiout",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [  ],
					"patching_rect": [ 460, 48, 52, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-15",
					"maxclass": "comment",
					"text": "MIDI passes through untouched",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 520, 16, 180, 20 ],
					"presentation": 0
				}
			},
			{
				"box": {
					"id": "obj-16",
					"maxclass": "comment",
					"text": "[js] outputs whole floats as ints; notes go through pack 0. 0. so OSC gets f f i i.",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 280, 400, 330, 20 ],
					"presentation": 0
				}
			},
			{
				"box": {
					"id": "obj-17",
					"maxclass": "comment",
					"text": "diffjam",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 16, 600, 60, 20 ],
					"presentation": 1,
					"presentation_rect": [ 4, 2, 60, 20 ],
					"fontsize": 13,
					"fontface": 1
				}
			},
			{
				"box": {
					"id": "obj-18",
					"maxclass": "live.tab",
					"varname": "Mode",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [ "", "", "float" ],
					"parameter_enable": 1,
					"patching_rect": [ 16, 120, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 70, 4, 140, 18 ],
					"num_lines_presentation": 1,
					"num_lines_patching": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial_enable": 1,
							"parameter_longname": "Mode",
							"parameter_shortname": "Mode",
							"parameter_type": 2,
							"parameter_enum": [ "infill", "accompany" ],
							"parameter_mmax": 1,
							"parameter_initial": [ 0 ]
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-19",
					"maxclass": "newobj",
					"text": "prepend mode",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 16, 144, 120, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-20",
					"maxclass": "comment",
					"text": "From bar",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 176, 100, 100, 18 ],
					"presentation": 1,
					"presentation_rect": [ 4, 28, 50, 15 ]
				}
			},
			{
				"box": {
					"id": "obj-21",
					"maxclass": "live.numbox",
					"varname": "From Bar",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [ "", "float" ],
					"parameter_enable": 1,
					"patching_rect": [ 176, 120, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 4, 44, 44, 15 ],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial_enable": 1,
							"parameter_longname": "From Bar",
							"parameter_shortname": "From Bar",
							"parameter_type": 1,
							"parameter_mmin": 0,
							"parameter_mmax": 256,
							"parameter_initial": [ 0 ],
							"parameter_unitstyle": 0
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-22",
					"maxclass": "newobj",
					"text": "prepend bar_from",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 176, 144, 120, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-23",
					"maxclass": "comment",
					"text": "To bar",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 336, 100, 100, 18 ],
					"presentation": 1,
					"presentation_rect": [ 58, 28, 50, 15 ]
				}
			},
			{
				"box": {
					"id": "obj-24",
					"maxclass": "live.numbox",
					"varname": "To Bar",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [ "", "float" ],
					"parameter_enable": 1,
					"patching_rect": [ 336, 120, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 58, 44, 44, 15 ],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial_enable": 1,
							"parameter_longname": "To Bar",
							"parameter_shortname": "To Bar",
							"parameter_type": 1,
							"parameter_mmin": 0,
							"parameter_mmax": 256,
							"parameter_initial": [ 0 ],
							"parameter_unitstyle": 0
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-25",
					"maxclass": "newobj",
					"text": "prepend bar_to",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 336, 144, 120, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-26",
					"maxclass": "comment",
					"text": "Guidance",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 496, 100, 100, 18 ],
					"presentation": 1,
					"presentation_rect": [ 112, 28, 56, 15 ]
				}
			},
			{
				"box": {
					"id": "obj-27",
					"maxclass": "live.numbox",
					"varname": "Guidance",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [ "", "float" ],
					"parameter_enable": 1,
					"patching_rect": [ 496, 120, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 112, 44, 50, 15 ],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial_enable": 1,
							"parameter_longname": "Guidance",
							"parameter_shortname": "Guidance",
							"parameter_type": 0,
							"parameter_mmin": 0,
							"parameter_mmax": 20,
							"parameter_initial": [ 4 ],
							"parameter_unitstyle": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-28",
					"maxclass": "newobj",
					"text": "prepend guidance",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 496, 144, 120, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-29",
					"maxclass": "comment",
					"text": "Steps",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 16, 170, 100, 18 ],
					"presentation": 1,
					"presentation_rect": [ 172, 28, 50, 15 ]
				}
			},
			{
				"box": {
					"id": "obj-30",
					"maxclass": "live.numbox",
					"varname": "Steps",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [ "", "float" ],
					"parameter_enable": 1,
					"patching_rect": [ 16, 190, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 172, 44, 44, 15 ],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial_enable": 1,
							"parameter_longname": "Steps",
							"parameter_shortname": "Steps",
							"parameter_type": 1,
							"parameter_mmin": 1,
							"parameter_mmax": 1000,
							"parameter_initial": [ 10 ],
							"parameter_unitstyle": 0
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-31",
					"maxclass": "newobj",
					"text": "prepend steps",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 16, 214, 120, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-32",
					"maxclass": "comment",
					"text": "Variations",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 176, 170, 100, 18 ],
					"presentation": 1,
					"presentation_rect": [ 226, 28, 56, 15 ]
				}
			},
			{
				"box": {
					"id": "obj-33",
					"maxclass": "live.numbox",
					"varname": "Variations",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [ "", "float" ],
					"parameter_enable": 1,
					"patching_rect": [ 176, 190, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 226, 44, 44, 15 ],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial_enable": 1,
							"parameter_longname": "Variations",
							"parameter_shortname": "Variations",
							"parameter_type": 1,
							"parameter_mmin": 1,
							"parameter_mmax": 8,
							"parameter_initial": [ 1 ],
							"parameter_unitstyle": 0
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-34",
					"maxclass": "newobj",
					"text": "prepend variations",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 176, 214, 120, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-35",
					"maxclass": "comment",
					"text": "In key",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 336, 170, 100, 18 ],
					"presentation": 1,
					"presentation_rect": [ 286, 28, 40, 15 ]
				}
			},
			{
				"box": {
					"id": "obj-36",
					"maxclass": "live.toggle",
					"varname": "In Key",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"parameter_enable": 1,
					"patching_rect": [ 336, 190, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 290, 44, 15, 15 ],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial_enable": 1,
							"parameter_longname": "In Key",
							"parameter_shortname": "In Key",
							"parameter_type": 2,
							"parameter_enum": [ "off", "on" ],
							"parameter_mmax": 1,
							"parameter_initial": [ 1 ]
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-37",
					"maxclass": "newobj",
					"text": "prepend in_key",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 336, 214, 120, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-38",
					"maxclass": "comment",
					"text": "Keep original",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 496, 170, 100, 18 ],
					"presentation": 1,
					"presentation_rect": [ 240, 4, 80, 15 ]
				}
			},
			{
				"box": {
					"id": "obj-39",
					"maxclass": "live.toggle",
					"varname": "Keep Original",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"parameter_enable": 1,
					"patching_rect": [ 496, 190, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 222, 6, 15, 15 ],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial_enable": 1,
							"parameter_longname": "Keep Original",
							"parameter_shortname": "Keep Original",
							"parameter_type": 2,
							"parameter_enum": [ "off", "on" ],
							"parameter_mmax": 1,
							"parameter_initial": [ 1 ]
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-40",
					"maxclass": "newobj",
					"text": "prepend keep_original",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 496, 214, 120, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-41",
					"maxclass": "live.text",
					"varname": "Generate",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [ "", "" ],
					"parameter_enable": 1,
					"patching_rect": [ 16, 260, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 330, 4, 80, 20 ],
					"mode": 0,
					"text": "Generate",
					"texton": "Generate",
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial_enable": 1,
							"parameter_longname": "Generate",
							"parameter_shortname": "Generate",
							"parameter_type": 2,
							"parameter_enum": [ "val1", "val2" ],
							"parameter_mmax": 1,
							"parameter_initial": [ 0 ]
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-42",
					"maxclass": "newobj",
					"text": "prepend press",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 16, 284, 120, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-43",
					"maxclass": "comment",
					"text": "Engine port",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 176, 240, 100, 18 ],
					"presentation": 1,
					"presentation_rect": [ 340, 28, 60, 15 ]
				}
			},
			{
				"box": {
					"id": "obj-44",
					"maxclass": "live.numbox",
					"varname": "Engine Port",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [ "", "float" ],
					"parameter_enable": 1,
					"patching_rect": [ 176, 260, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 340, 44, 50, 15 ],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial_enable": 1,
							"parameter_longname": "Engine Port",
							"parameter_shortname": "Engine Port",
							"parameter_type": 1,
							"parameter_mmin": 1024,
							"parameter_mmax": 65535,
							"parameter_initial": [ 9000 ],
							"parameter_unitstyle": 0
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-45",
					"maxclass": "newobj",
					"text": "prepend engine_port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 176, 284, 120, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-46",
					"maxclass": "comment",
					"text": "Reply port",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 336, 240, 100, 18 ],
					"presentation": 1,
					"presentation_rect": [ 404, 28, 60, 15 ]
				}
			},
			{
				"box": {
					"id": "obj-47",
					"maxclass": "live.numbox",
					"varname": "Reply Port",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [ "", "float" ],
					"parameter_enable": 1,
					"patching_rect": [ 336, 260, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 404, 44, 50, 15 ],
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_initial_enable": 1,
							"parameter_longname": "Reply Port",
							"parameter_shortname": "Reply Port",
							"parameter_type": 1,
							"parameter_mmin": 1024,
							"parameter_mmax": 65535,
							"parameter_initial": [ 9001 ],
							"parameter_unitstyle": 0
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-48",
					"maxclass": "newobj",
					"text": "prepend reply_port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 336, 284, 120, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-49",
					"maxclass": "comment",
					"text": "Chords (optional, Enter to set)",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 16, 900, 200, 18 ],
					"presentation": 1,
					"presentation_rect": [ 4, 64, 170, 15 ]
				}
			},
			{
				"box": {
					"id": "obj-50",
					"maxclass": "textedit",
					"varname": "Chords",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [ "", "int", "", "" ],
					"parameter_enable": 0,
					"patching_rect": [ 16, 920, 200, 22 ],
					"presentation": 1,
					"presentation_rect": [ 176, 62, 170, 18 ],
					"lines": 1,
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-51",
					"maxclass": "newobj",
					"text": "prepend chords",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 16, 950, 100, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-60",
					"maxclass": "comment",
					"text": "Model",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 240, 900, 60, 18 ],
					"presentation": 1,
					"presentation_rect": [ 350, 64, 34, 15 ]
				}
			},
			{
				"box": {
					"id": "obj-61",
					"maxclass": "textedit",
					"varname": "Model",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [ "", "int", "", "" ],
					"parameter_enable": 0,
					"patching_rect": [ 240, 920, 150, 22 ],
					"presentation": 1,
					"presentation_rect": [ 386, 62, 80, 18 ],
					"lines": 1,
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-62",
					"maxclass": "newobj",
					"text": "prepend model",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [ "" ],
					"patching_rect": [ 240, 950, 100, 22 ]
				}
			},
			{
				"box": {
					"id": "obj-52",
					"maxclass": "comment",
					"text": "Select a MIDI clip and press Generate.",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [ 300, 600, 300, 50 ],
					"presentation": 1,
					"presentation_rect": [ 4, 86, 460, 60 ],
					"varname": "Status",
					"linecount": 3,
					"fontsize": 10
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"destination": [ "obj-2", 0 ],
					"source": [ "obj-1", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-2", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-3", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-5", 0 ],
					"source": [ "obj-4", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-3", 0 ],
					"source": [ "obj-4", 2 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-6", 0 ],
					"source": [ "obj-5", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-7", 0 ],
					"source": [ "obj-6", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-7", 1 ],
					"source": [ "obj-6", 1 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-7", 2 ],
					"source": [ "obj-6", 2 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-7", 3 ],
					"source": [ "obj-6", 3 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-8", 0 ],
					"source": [ "obj-7", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-9", 0 ],
					"source": [ "obj-5", 1 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-8", 0 ],
					"source": [ "obj-9", 1 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-10", 1 ],
					"source": [ "obj-8", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-10", 0 ],
					"source": [ "obj-9", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-11", 0 ],
					"source": [ "obj-10", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-12", 0 ],
					"source": [ "obj-11", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-12", 0 ],
					"source": [ "obj-5", 2 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-14", 0 ],
					"source": [ "obj-13", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-19", 0 ],
					"source": [ "obj-18", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-19", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-22", 0 ],
					"source": [ "obj-21", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-22", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-25", 0 ],
					"source": [ "obj-24", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-25", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-28", 0 ],
					"source": [ "obj-27", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-28", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-31", 0 ],
					"source": [ "obj-30", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-31", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-34", 0 ],
					"source": [ "obj-33", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-34", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-37", 0 ],
					"source": [ "obj-36", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-37", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-40", 0 ],
					"source": [ "obj-39", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-40", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-42", 0 ],
					"source": [ "obj-41", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-42", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-45", 0 ],
					"source": [ "obj-44", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-45", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-48", 0 ],
					"source": [ "obj-47", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-48", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-51", 0 ],
					"source": [ "obj-50", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-51", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-62", 0 ],
					"source": [ "obj-61", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-4", 0 ],
					"source": [ "obj-62", 0 ]
				}
			},
			{
				"patchline": {
					"destination": [ "obj-52", 0 ],
					"source": [ "obj-4", 1 ]
				}
			}
		],
		"parameters": {
			"obj-18": [ "Mode", "Mode", 0 ],
			"obj-21": [ "From Bar", "From Bar", 0 ],
			"obj-24": [ "To Bar", "To Bar", 0 ],
			"obj-27": [ "Guidance", "Guidance", 0 ],
			"obj-30": [ "Steps", "Steps", 0 ],
			"obj-33": [ "Variations", "Variations", 0 ],
			"obj-36": [ "In Key", "In Key", 0 ],
			"obj-39": [ "Keep Original", "Keep Original", 0 ],
			"obj-41": [ "Generate", "Generate", 0 ],
			"obj-44": [ "Engine Port", "Engine Port", 0 ],
			"obj-47": [ "Reply Port", "Reply Port", 0 ],
			"parameterbanks": {},
			"inherited_shortname": 1
		},
		"dependency_cache": [  ],
		"latency": 0,
		"is_mpe": 0,
		"minimum_live_version": "11.0",
		"minimum_max_version": "8.1.2",
		"platform_compatibility": 0,
		"project": {
			"version": 1,
			"creationdate": 3590052786,
			"modificationdate": 3590052786,
			"viewrect": [ 0, 0, 300, 500 ],
			"autoorganize": 1,
			"hideprojectwindow": 1,
			"showdependencies": 1,
			"autolocalize": 0,
			"contents": {
				"patchers": {}
			},
			"layout": {},
			"searchpath": {},
			"detailsvisible": 0,
			"amxdtype": 1835887981,
			"readonly": 0,
			"devpathtype": 0,
			"devpath": ".",
			"sortmode": 0,
			"viewmode": 0,
			"includepackages": 0
		},
		"autosave": 0
	}
}
