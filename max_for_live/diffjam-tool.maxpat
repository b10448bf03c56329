{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 6,
			"revision": 0,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [
			100,
			100,
			1400,
			700
		],
		"openrect": [
			0,
			0,
			500,
			169
		],
		"bglocked": 0,
		"openinpresentation": 1,
		"default_fontsize": 10,
		"default_fontface": 0,
		"default_fontname": "Arial",
		"gridonopen": 1,
		"gridsize": [
			8,
			8
		],
		"gridsnaponopen": 1,
		"objectsnaponopen": 1,
		"statusbarvisible": 2,
		"toolbarvisible": 1,
		"boxanimatetime": 500,
		"enablehscroll": 1,
		"enablevscroll": 1,
		"devicewidth": 500,
		"description": "diffjam MIDI Tool: infill or accompany the time selection with the local diffjam engine (OSC).",
		"digest": "Piano-roll diffusion for Live clips",
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
					"outlettype": [
						"bang",
						"int",
						"int"
					],
					"patching_rect": [
						20,
						20,
						100,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-2",
					"maxclass": "message",
					"text": "init",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20,
						50,
						40,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-3",
					"maxclass": "newobj",
					"text": "udpreceive 9001 @defer 1",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						140,
						20,
						160,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-4",
					"maxclass": "newobj",
					"text": "js diffjam.js tool",
					"numinlets": 1,
					"numoutlets": 6,
					"outlettype": [
						"",
						"",
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						20,
						90,
						300,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-5",
					"maxclass": "newobj",
					"text": "route note send",
					"numinlets": 2,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						""
					],
					"patching_rect": [
						20,
						130,
						110,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-6",
					"maxclass": "newobj",
					"text": "unpack 0. 0. 0 0",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"float",
						"float",
						"int",
						"int"
					],
					"patching_rect": [
						20,
						160,
						110,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-7",
					"maxclass": "newobj",
					"text": "pack 0. 0. 0 0",
					"numinlets": 4,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						20,
						190,
						110,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-8",
					"maxclass": "newobj",
					"text": "zl group 1024 @zlmaxsize 1024",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						20,
						220,
						180,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-9",
					"maxclass": "newobj",
					"text": "t a b",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						220,
						160,
						40,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-10",
					"maxclass": "newobj",
					"text": "zl join @zlmaxsize 1100",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						220,
						250,
						150,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-11",
					"maxclass": "newobj",
					"text": "prepend /diffjam/notes",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						220,
						280,
						140,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-12",
					"maxclass": "newobj",
					"text": "udpsend 127.0.0.1 9000",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						20,
						320,
						150,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-13",
					"maxclass": "newobj",
					"text": "live.miditool.in",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"dictionary",
						"dictionary",
						""
					],
					"patching_rect": [
						400,
						20,
						110,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-14",
					"maxclass": "newobj",
					"text": "live.miditool.out",
					"numinlets": 1,
					"numoutlets": 0,
					"outlettype": [],
					"patching_rect": [
						400,
						130,
						110,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-15",
					"maxclass": "newobj",
					"text": "prepend notes",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						20,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-16",
					"maxclass": "newobj",
					"text": "prepend context",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						520,
						50,
						110,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-17",
					"maxclass": "live.tab",
					"varname": "Mode",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						700,
						70,
						120,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						4,
						120,
						18
					],
					"fontname": "Arial",
					"fontsize": 10,
					"num_lines_presentation": 0,
					"num_lines_patching": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Mode",
							"parameter_shortname": "Mode",
							"parameter_type": 2,
							"parameter_enum": [
								"infill",
								"accompany"
							],
							"parameter_mmax": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 0
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-18",
					"maxclass": "newobj",
					"text": "prepend mode",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						100,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-19",
					"maxclass": "live.text",
					"varname": "Generate",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						860,
						100,
						64,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						130,
						4,
						64,
						18
					],
					"fontname": "Arial",
					"fontsize": 10,
					"text": "Generate",
					"texton": "Generate",
					"mode": 0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Generate",
							"parameter_shortname": "Generate",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-20",
					"maxclass": "newobj",
					"text": "prepend press",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						130,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-21",
					"maxclass": "live.text",
					"varname": "Cancel",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						860,
						130,
						50,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						200,
						4,
						50,
						18
					],
					"fontname": "Arial",
					"fontsize": 10,
					"text": "Cancel",
					"texton": "Cancel",
					"mode": 0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Cancel",
							"parameter_shortname": "Cancel",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-22",
					"maxclass": "newobj",
					"text": "prepend cancel",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						160,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-23",
					"maxclass": "live.text",
					"varname": "Re-roll",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						860,
						160,
						54,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						256,
						4,
						54,
						18
					],
					"fontname": "Arial",
					"fontsize": 10,
					"text": "Re-roll",
					"texton": "Re-roll",
					"mode": 0,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Re-roll",
							"parameter_shortname": "Re-roll",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-24",
					"maxclass": "newobj",
					"text": "prepend reroll",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						190,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-25",
					"maxclass": "comment",
					"text": "Guidance",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						220,
						58,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						26,
						58,
						14
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-26",
					"maxclass": "live.numbox",
					"varname": "Guidance",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						860,
						250,
						56,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						40,
						56,
						15
					],
					"fontname": "Arial",
					"fontsize": 10,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Guidance",
							"parameter_shortname": "Guidance",
							"parameter_type": 0,
							"parameter_unitstyle": 1,
							"parameter_mmin": 0,
							"parameter_mmax": 20,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								4
							],
							"parameter_invisible": 0
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-27",
					"maxclass": "comment",
					"text": "Steps",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						280,
						58,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						66,
						26,
						58,
						14
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-28",
					"maxclass": "live.numbox",
					"varname": "Steps",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						860,
						310,
						56,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						66,
						40,
						56,
						15
					],
					"fontname": "Arial",
					"fontsize": 10,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Steps",
							"parameter_shortname": "Steps",
							"parameter_type": 0,
							"parameter_unitstyle": 0,
							"parameter_mmin": 1,
							"parameter_mmax": 1000,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								10
							],
							"parameter_invisible": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-29",
					"maxclass": "comment",
					"text": "Seed (0: new)",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						340,
						58,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						128,
						26,
						58,
						14
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-30",
					"maxclass": "live.numbox",
					"varname": "Seed",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						860,
						370,
						56,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						128,
						40,
						56,
						15
					],
					"fontname": "Arial",
					"fontsize": 10,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Seed",
							"parameter_shortname": "Seed",
							"parameter_type": 0,
							"parameter_unitstyle": 0,
							"parameter_mmin": 0,
							"parameter_mmax": 16777215,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-31",
					"maxclass": "newobj",
					"text": "prepend guidance",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						400,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-32",
					"maxclass": "newobj",
					"text": "prepend steps",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						430,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-33",
					"maxclass": "newobj",
					"text": "prepend seed",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						460,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-34",
					"maxclass": "live.toggle",
					"varname": "In Key",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						860,
						490,
						15,
						15
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						60,
						15,
						15
					],
					"fontname": "Arial",
					"fontsize": 10,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "In Key",
							"parameter_shortname": "In Key",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1
							],
							"parameter_invisible": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-35",
					"maxclass": "comment",
					"text": "In key",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						520,
						60,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						21,
						60,
						60,
						14
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-36",
					"maxclass": "newobj",
					"text": "prepend in_key",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						550,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-37",
					"maxclass": "comment",
					"text": "Chords (e.g. C G Am F)",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						580,
						120,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						80,
						120,
						14
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-38",
					"maxclass": "textedit",
					"varname": "Chords",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"lines": 1,
					"parameter_enable": 0,
					"patching_rect": [
						1100,
						610,
						150,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						126,
						80,
						180,
						16
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-39",
					"maxclass": "newobj",
					"text": "t b",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"bang"
					],
					"patching_rect": [
						1100,
						640,
						30,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-40",
					"maxclass": "newobj",
					"text": "deferlow",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1100,
						670,
						60,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-41",
					"maxclass": "newobj",
					"text": "pattr chords @parameter_enable 1",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						""
					],
					"patching_rect": [
						1100,
						700,
						150,
						22
					],
					"fontname": "Arial",
					"fontsize": 10,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Chords Text",
							"parameter_shortname": "Chords",
							"parameter_type": 3,
							"parameter_invisible": 1
						}
					},
					"parameter_enable": 1,
					"varname": "chords_store"
				}
			},
			{
				"box": {
					"id": "obj-42",
					"maxclass": "newobj",
					"text": "prepend set",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1260,
						700,
						80,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-43",
					"maxclass": "newobj",
					"text": "prepend chords",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						730,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-44",
					"maxclass": "comment",
					"text": "Key (e.g. Am)",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						760,
						120,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						98,
						120,
						14
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-45",
					"maxclass": "textedit",
					"varname": "Key",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"lines": 1,
					"parameter_enable": 0,
					"patching_rect": [
						1100,
						790,
						150,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						126,
						98,
						180,
						16
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-46",
					"maxclass": "newobj",
					"text": "t b",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"bang"
					],
					"patching_rect": [
						1100,
						820,
						30,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-47",
					"maxclass": "newobj",
					"text": "deferlow",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1100,
						850,
						60,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-48",
					"maxclass": "newobj",
					"text": "pattr key @parameter_enable 1",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						""
					],
					"patching_rect": [
						1100,
						880,
						150,
						22
					],
					"fontname": "Arial",
					"fontsize": 10,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Key Text",
							"parameter_shortname": "Key",
							"parameter_type": 3,
							"parameter_invisible": 1
						}
					},
					"parameter_enable": 1,
					"varname": "key_store"
				}
			},
			{
				"box": {
					"id": "obj-49",
					"maxclass": "newobj",
					"text": "prepend set",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1260,
						880,
						80,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-50",
					"maxclass": "newobj",
					"text": "prepend key",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						910,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-51",
					"maxclass": "comment",
					"text": "Model (empty: default)",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						940,
						120,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						116,
						120,
						14
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-52",
					"maxclass": "textedit",
					"varname": "Model",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"lines": 1,
					"parameter_enable": 0,
					"patching_rect": [
						1100,
						970,
						150,
						20
					],
					"presentation": 1,
					"presentation_rect": [
						126,
						116,
						180,
						16
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-53",
					"maxclass": "newobj",
					"text": "t b",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"bang"
					],
					"patching_rect": [
						1100,
						1000,
						30,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-54",
					"maxclass": "newobj",
					"text": "deferlow",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1100,
						1030,
						60,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-55",
					"maxclass": "newobj",
					"text": "pattr model @parameter_enable 1",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						""
					],
					"patching_rect": [
						1100,
						1060,
						150,
						22
					],
					"fontname": "Arial",
					"fontsize": 10,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Model Text",
							"parameter_shortname": "Model",
							"parameter_type": 3,
							"parameter_invisible": 1
						}
					},
					"parameter_enable": 1,
					"varname": "model_store"
				}
			},
			{
				"box": {
					"id": "obj-56",
					"maxclass": "newobj",
					"text": "prepend set",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1260,
						1060,
						80,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-57",
					"maxclass": "newobj",
					"text": "prepend model",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						1090,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-58",
					"maxclass": "comment",
					"text": "Engine port",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						1120,
						110,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						320,
						80,
						110,
						14
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-59",
					"maxclass": "live.numbox",
					"varname": "Engine Port",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						860,
						1150,
						56,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						432,
						80,
						56,
						15
					],
					"fontname": "Arial",
					"fontsize": 10,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Engine Port",
							"parameter_shortname": "Engine Port",
							"parameter_type": 0,
							"parameter_unitstyle": 0,
							"parameter_mmin": 1024,
							"parameter_mmax": 65535,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								9000
							],
							"parameter_invisible": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-60",
					"maxclass": "newobj",
					"text": "prepend engine_port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						1180,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-61",
					"maxclass": "comment",
					"text": "Reply port (0: auto)",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						1210,
						110,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						320,
						98,
						110,
						14
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-62",
					"maxclass": "live.numbox",
					"varname": "Reply Port",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						860,
						1240,
						56,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						432,
						98,
						56,
						15
					],
					"fontname": "Arial",
					"fontsize": 10,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Reply Port",
							"parameter_shortname": "Reply Port",
							"parameter_type": 0,
							"parameter_unitstyle": 0,
							"parameter_mmin": 0,
							"parameter_mmax": 65535,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-63",
					"maxclass": "newobj",
					"text": "prepend reply_port",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						1270,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-64",
					"maxclass": "comment",
					"text": "Select a time range in a MIDI clip and press Generate.",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						20,
						380,
						400,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						4,
						138,
						490,
						14
					],
					"fontname": "Arial",
					"fontsize": 10,
					"varname": "Status"
				}
			},
			{
				"box": {
					"id": "obj-65",
					"maxclass": "comment",
					"text": "Candidates",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						1300,
						58,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						190,
						26,
						58,
						14
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-66",
					"maxclass": "live.numbox",
					"varname": "Candidates",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"parameter_enable": 1,
					"patching_rect": [
						860,
						1330,
						56,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						190,
						40,
						56,
						15
					],
					"fontname": "Arial",
					"fontsize": 10,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Candidates",
							"parameter_shortname": "Candidates",
							"parameter_type": 1,
							"parameter_unitstyle": 0,
							"parameter_mmin": 0,
							"parameter_mmax": 16,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-67",
					"maxclass": "newobj",
					"text": "prepend candidates",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						1360,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-68",
					"maxclass": "live.toggle",
					"varname": "Root In Bass",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"parameter_enable": 1,
					"patching_rect": [
						860,
						1390,
						15,
						15
					],
					"presentation": 1,
					"presentation_rect": [
						84,
						60,
						15,
						15
					],
					"fontname": "Arial",
					"fontsize": 10,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Root In Bass",
							"parameter_shortname": "Root Bass",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1
						}
					}
				}
			},
			{
				"box": {
					"id": "obj-69",
					"maxclass": "comment",
					"text": "Root in bass",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						1420,
						70,
						18
					],
					"presentation": 1,
					"presentation_rect": [
						101,
						60,
						70,
						14
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			},
			{
				"box": {
					"id": "obj-70",
					"maxclass": "newobj",
					"text": "prepend bass_anchor",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						1450,
						120,
						22
					],
					"fontname": "Arial",
					"fontsize": 10
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"source": [
						"obj-1",
						0
					],
					"destination": [
						"obj-2",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-2",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-3",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-4",
						2
					],
					"destination": [
						"obj-3",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-4",
						0
					],
					"destination": [
						"obj-5",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-5",
						0
					],
					"destination": [
						"obj-6",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-6",
						0
					],
					"destination": [
						"obj-7",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-6",
						1
					],
					"destination": [
						"obj-7",
						1
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-6",
						2
					],
					"destination": [
						"obj-7",
						2
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-6",
						3
					],
					"destination": [
						"obj-7",
						3
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-7",
						0
					],
					"destination": [
						"obj-8",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-5",
						1
					],
					"destination": [
						"obj-9",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-9",
						1
					],
					"destination": [
						"obj-8",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-8",
						0
					],
					"destination": [
						"obj-10",
						1
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-9",
						0
					],
					"destination": [
						"obj-10",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-10",
						0
					],
					"destination": [
						"obj-11",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-11",
						0
					],
					"destination": [
						"obj-12",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-5",
						2
					],
					"destination": [
						"obj-12",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-13",
						0
					],
					"destination": [
						"obj-15",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-15",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-13",
						1
					],
					"destination": [
						"obj-16",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-16",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-4",
						4
					],
					"destination": [
						"obj-14",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-4",
						5
					],
					"destination": [
						"obj-13",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-17",
						0
					],
					"destination": [
						"obj-18",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-18",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-19",
						0
					],
					"destination": [
						"obj-20",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-20",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-21",
						0
					],
					"destination": [
						"obj-22",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-22",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-23",
						0
					],
					"destination": [
						"obj-24",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-24",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-26",
						0
					],
					"destination": [
						"obj-31",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-31",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-28",
						0
					],
					"destination": [
						"obj-32",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-32",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-30",
						0
					],
					"destination": [
						"obj-33",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-33",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-4",
						3
					],
					"destination": [
						"obj-30",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-34",
						0
					],
					"destination": [
						"obj-36",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-36",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-38",
						1
					],
					"destination": [
						"obj-39",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-39",
						0
					],
					"destination": [
						"obj-40",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-40",
						0
					],
					"destination": [
						"obj-38",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-38",
						0
					],
					"destination": [
						"obj-41",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-41",
						0
					],
					"destination": [
						"obj-43",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-43",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-41",
						0
					],
					"destination": [
						"obj-42",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-42",
						0
					],
					"destination": [
						"obj-38",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-45",
						1
					],
					"destination": [
						"obj-46",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-46",
						0
					],
					"destination": [
						"obj-47",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-47",
						0
					],
					"destination": [
						"obj-45",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-45",
						0
					],
					"destination": [
						"obj-48",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-48",
						0
					],
					"destination": [
						"obj-50",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-50",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-48",
						0
					],
					"destination": [
						"obj-49",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-49",
						0
					],
					"destination": [
						"obj-45",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-52",
						1
					],
					"destination": [
						"obj-53",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-53",
						0
					],
					"destination": [
						"obj-54",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-54",
						0
					],
					"destination": [
						"obj-52",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-52",
						0
					],
					"destination": [
						"obj-55",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-55",
						0
					],
					"destination": [
						"obj-57",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-57",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-55",
						0
					],
					"destination": [
						"obj-56",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-56",
						0
					],
					"destination": [
						"obj-52",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-59",
						0
					],
					"destination": [
						"obj-60",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-60",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-62",
						0
					],
					"destination": [
						"obj-63",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-63",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-4",
						1
					],
					"destination": [
						"obj-64",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-66",
						0
					],
					"destination": [
						"obj-67",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-67",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-68",
						0
					],
					"destination": [
						"obj-70",
						0
					]
				}
			},
			{
				"patchline": {
					"source": [
						"obj-70",
						0
					],
					"destination": [
						"obj-4",
						0
					]
				}
			}
		],
		"parameters": {
			"obj-17": [
				"Mode",
				"Mode",
				0
			],
			"obj-19": [
				"Generate",
				"Generate",
				0
			],
			"obj-21": [
				"Cancel",
				"Cancel",
				0
			],
			"obj-23": [
				"Re-roll",
				"Re-roll",
				0
			],
			"obj-26": [
				"Guidance",
				"Guidance",
				0
			],
			"obj-28": [
				"Steps",
				"Steps",
				0
			],
			"obj-30": [
				"Seed",
				"Seed",
				0
			],
			"obj-34": [
				"In Key",
				"In Key",
				0
			],
			"obj-41": [
				"Chords Text",
				"Chords",
				0
			],
			"obj-48": [
				"Key Text",
				"Key",
				0
			],
			"obj-55": [
				"Model Text",
				"Model",
				0
			],
			"obj-59": [
				"Engine Port",
				"Engine Port",
				0
			],
			"obj-62": [
				"Reply Port",
				"Reply Port",
				0
			],
			"obj-66": [
				"Candidates",
				"Candidates",
				0
			],
			"obj-68": [
				"Root In Bass",
				"Root Bass",
				0
			],
			"parameterbanks": {},
			"inherited_shortname": 1
		},
		"dependency_cache": [
			{
				"name": "diffjam.js",
				"bootpath": ".",
				"type": "TEXT",
				"implicit": 1
			}
		],
		"latency": 0,
		"is_mpe": 0,
		"minimum_live_version": "12.0",
		"minimum_max_version": "8.6.0",
		"platform_compatibility": 0,
		"project": {
			"version": 1,
			"creationdate": 3590052786,
			"modificationdate": 3590052786,
			"viewrect": [
				0,
				0,
				300,
				500
			],
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
			"amxdtype": 1851877223,
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
